"""The client's address behind the reverse proxy (justface.proxy): X-Real-IP counts only from a
trusted proxy, so the login limiter counts per client and consent evidence names the client."""

import pytest
from django.test import RequestFactory, override_settings

from justface.proxy import TrustedProxyMiddleware


def remote_addr(remote: str, header: str | None, trusted: list[str]) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **({"HTTP_X_REAL_IP": header} if header else {}))
    with override_settings(JUSTFACE_TRUSTED_PROXIES=trusted):
        TrustedProxyMiddleware(lambda r: None)(request)
    return request.META["REMOTE_ADDR"]


@pytest.mark.parametrize(
    ("remote", "header", "trusted", "expected"),
    [
        ("127.0.0.1", "198.51.100.7", ["127.0.0.1"], "198.51.100.7"),  # from the proxy: the client
        ("203.0.113.9", "198.51.100.7", ["127.0.0.1"], "203.0.113.9"),  # straight from a client: forged, ignored
        ("127.0.0.1", "198.51.100.7", [], "127.0.0.1"),  # no proxy configured: nothing changes
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),  # garbage is not an address
        ("127.0.0.1", None, ["127.0.0.1"], "127.0.0.1"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
        ("10.0.1.10", "198.51.100.7", ["10.0.1.0/24"], "198.51.100.7"),  # a load balancer of the private network
        ("10.0.2.10", "198.51.100.7", ["10.0.1.0/24"], "10.0.2.10"),  # outside it: not trusted
        ("10.0.1.11", "198.51.100.7", ["10.0.1.10", "10.0.1.11"], "198.51.100.7"),  # two load balancers
    ],
)
def test_real_ip_only_from_a_trusted_proxy(remote, header, trusted, expected):
    assert remote_addr(remote, header, trusted) == expected


def test_login_limiter_counts_the_client_behind_the_proxy(client, settings, db):
    from justface.throttle import client_address

    settings.JUSTFACE_TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.7")
    TrustedProxyMiddleware(lambda r: None)(request)
    assert client_address(request) == "198.51.100.7"

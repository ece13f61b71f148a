"""No server-side request forgery: endpoints must be HTTPS on public addresses unless the operator
allow-listed a network; every resolved address is checked at each attempt (a name that resolves
to loopback is refused there, whatever it was when saved); redirects are not followed; the
answer is read only up to its cap."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.access.conftest import consent_to_face_scan
from tests.conftest import make_member
from tests.webhooks.conftest import receiver, start_receiver, subscribe  # noqa: F401
from webhooks import delivery, services, ssrf
from webhooks.models import WebhookDelivery

REFUSED = [
    "http://10.0.0.5/hooks",  # private
    "https://10.0.0.5/hooks",
    "https://192.168.1.20/hooks",
    "https://172.16.0.1/hooks",
    "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "https://127.0.0.1:8000/hooks",  # loopback
    "https://localhost/hooks",  # a name that resolves to loopback
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",  # loopback inside an IPv4-mapped IPv6 address
    "https://[::ffff:169.254.169.254]/hooks",
    "https://[2002:7f00:1::1]/hooks",  # 6to4 around 127.0.0.1
    "https://[fd00::1]/hooks",  # unique local
    "https://[fe80::1]/hooks",  # link-local
    "https://0.0.0.0/hooks",
    "https://100.64.0.1/hooks",  # carrier-grade NAT
    "https://224.0.0.1/hooks",  # multicast
    "http://93.184.215.14/hooks",  # public, but not HTTPS
    "ftp://93.184.215.14/hooks",
    "https://user:secret@93.184.215.14/hooks",
    "https:///hooks",
    "https://no-such-host.invalid/hooks",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_url_that_is_not_https_on_a_public_address_is_refused(world, url):
    with pytest.raises(ValidationError):
        services.create_endpoint(chain=world.chain_a, url=url, event_types=["consent.given"], actor=None)


def test_https_on_a_public_address_is_accepted(world):
    endpoint, secret = services.create_endpoint(
        chain=world.chain_a, url="https://93.184.215.14/hooks", event_types=["consent.given"], actor=None
    )
    assert endpoint.pk and secret.startswith("whsec_")


def test_the_operator_allow_lists_loopback(world, settings):
    settings.JUSTFACE_WEBHOOK_ALLOW_NETS = ["127.0.0.0/8"]
    target = ssrf.resolve("http://127.0.0.1:9/hooks?x=1")
    assert target.addresses == ("127.0.0.1",) and target.path == "/hooks?x=1"
    with pytest.raises(ssrf.Refused):  # only the listed network
        ssrf.resolve("http://10.0.0.5/hooks")


def test_a_name_resolving_to_loopback_is_refused_at_the_attempt_when_not_allow_listed(world, receiver, settings):
    """Saved while loopback was allowed; at the attempt it is not: the host is resolved again,
    its loopback addresses are refused, and nothing reaches the receiver."""
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    endpoint.url = receiver.url(host="localhost")
    endpoint.save()
    settings.JUSTFACE_WEBHOOK_ALLOW_NETS = []
    consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    assert sent.status == WebhookDelivery.Status.PENDING and sent.attempts == 1
    assert "is not a public address" in sent.last_error and sent.last_status is None
    assert receiver.received == []


def test_a_redirect_is_not_followed(world, receiver):
    inner = start_receiver()  # where the redirect points (an internal service)
    try:
        subscribe(world.chain_a, receiver, "consent.given")
        receiver.answers = [(302, {"Location": inner.url("/admin")}, 0)]
        consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
        delivery.pump(linger=0)
        sent = WebhookDelivery.objects.get()
        assert sent.last_status == 302 and sent.last_error == "redirect not followed"
        assert sent.status == WebhookDelivery.Status.PENDING  # a failed attempt, retried later
        assert len(receiver.received) == 1 and inner.received == []
    finally:
        inner.server.shutdown()
        inner.server.server_close()


def test_the_request_goes_to_the_checked_address_with_the_name_as_host(world, receiver):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    endpoint.url = receiver.url(host="localhost")
    endpoint.save()
    consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
    delivery.pump(linger=0)
    got = receiver.wait_for(1)[0]
    assert got.verified and got.headers["host"] == f"localhost:{receiver.port}"


def test_only_the_start_of_a_long_answer_is_read_and_a_short_excerpt_kept(world, receiver):
    subscribe(world.chain_a, receiver, "consent.given")
    receiver.answers = [(500, {}, 0, b"y" * 2_000_000)]
    consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    assert sent.last_status == 500 and 0 < len(sent.response_excerpt) <= 200

"""The client's address behind a reverse proxy (deploy/nginx/): REMOTE_ADDR is then the proxy's,
so every client would share one login-limiter count and consent evidence would record the proxy.

The proxy's X-Real-IP is taken only when the request comes from an address listed in
JUSTFACE_TRUSTED_PROXIES (the proxy overwrites the header; a client's own copy never reaches the
app through it). Requests from anywhere else keep their REMOTE_ADDR: the header is forgeable.
Entries are addresses or networks (10.0.1.0/24: load balancers on a private subnet)."""

from __future__ import annotations

import ipaddress

from django.conf import settings


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = trusted_networks(settings.JUSTFACE_TRUSTED_PROXIES)

    def __call__(self, request):
        if self.trusted and _within(request.META.get("REMOTE_ADDR", ""), self.trusted):
            real = _address(request.META.get("HTTP_X_REAL_IP", ""))
            if real:
                request.META["REMOTE_ADDR"] = real
        return self.get_response(request)


def trusted_networks(entries: list[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    # The settings refused malformed entries at start.
    return tuple(ipaddress.ip_network(entry.strip()) for entry in entries if entry.strip())


def _within(value: str, networks) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""

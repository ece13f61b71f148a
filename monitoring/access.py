"""Who may read /metrics: a scraper on an allow-listed network (JUSTFACE_METRICS_ALLOW), or one
that sends the bearer token whose SHA-256 is JUSTFACE_METRICS_TOKEN_SHA256. Everyone else gets a
403 (and nginx never passes /metrics on: deploy/nginx/proxy.conf)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings


def token_sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def scraper_allowed(*, remote_addr: str, authorization: str) -> bool:
    expected = settings.JUSTFACE_METRICS_TOKEN_SHA256
    keyword, _, raw = authorization.partition(" ")
    if expected and keyword.lower() == "bearer" and raw.strip():
        if hmac.compare_digest(token_sha256(raw.strip()), expected):
            return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(net) for net in settings.JUSTFACE_METRICS_ALLOW)

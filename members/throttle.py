"""A small limiter for password guesses (portal login, API token, desk signing, reset e-mails).

Failures are counted in Django's cache per account identifier and per client address, in a
fixed window. With several web processes the cache must be shared (CACHES pointing at Redis or
the database); with the default per-process cache each process counts on its own."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from justface import crypto

WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Limit:
    scope: str
    per_identifier: int
    per_address: int


LOGIN = Limit("login", per_identifier=5, per_address=30)
RESET = Limit("reset", per_identifier=3, per_address=20)


def client_address(request) -> str:
    # REMOTE_ADDR only: behind a proxy, let the proxy/WSGI server set it (X-Forwarded-For is forgeable).
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _keys(limit: Limit, identifier: str, address: str) -> list[tuple[str, int]]:
    # Keyed hashes: the cache never holds an e-mail address or an IP address in clear.
    keys = [(f"throttle:{limit.scope}:id:{crypto.keyed_hash('throttle', identifier.strip().lower())}", limit.per_identifier)]
    if address:
        keys.append((f"throttle:{limit.scope}:ip:{crypto.keyed_hash('throttle', address)}", limit.per_address))
    return keys


def blocked(limit: Limit, *, identifier: str, address: str) -> bool:
    return any((cache.get(key) or 0) >= allowed for key, allowed in _keys(limit, identifier, address))


def failed(limit: Limit, *, identifier: str, address: str) -> None:
    for key, _ in _keys(limit, identifier, address):
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, WINDOW_SECONDS)


def succeeded(limit: Limit, *, identifier: str) -> None:
    cache.delete(_keys(limit, identifier, "")[0][0])

"""A small limiter for password guesses: staff login (the admin), member login (portal, API
token, desk signing) and reset e-mails.

Failures are counted in Django's cache per account identifier and per client address, in a
fixed window that starts with the first failure. With several web processes the cache must be
shared (CACHES pointing at Redis or the database); with the default per-process cache each
process counts on its own."""

from __future__ import annotations

import math
import time
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
# Staff logins get the members' limit; their own scope, so a member's typos at the portal never
# lock a staff account with the same identifier, nor the reverse.
STAFF_LOGIN = Limit("staff", per_identifier=5, per_address=30)


def client_address(request) -> str:
    # REMOTE_ADDR only (X-Forwarded-For is forgeable); behind the reverse proxy, justface.proxy has
    # set it from the trusted proxy's X-Real-IP.
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _keys(limit: Limit, identifier: str, address: str) -> list[tuple[str, str, int]]:
    # Keyed hashes: the cache never holds an e-mail address, a username or an IP address in clear.
    keys = [
        (
            "identifier",
            f"throttle:{limit.scope}:id:{crypto.keyed_hash('throttle', identifier.strip().lower())}",
            limit.per_identifier,
        )
    ]
    if address:
        keys.append(
            ("address", f"throttle:{limit.scope}:ip:{crypto.keyed_hash('throttle', address)}", limit.per_address)
        )
    return keys


def retry_after(limit: Limit, *, identifier: str, address: str) -> int:
    """Seconds until a blocked identifier or address may try again; 0: not blocked."""
    wait = 0
    for _, key, allowed in _keys(limit, identifier, address):
        if (cache.get(key) or 0) >= allowed:
            started = cache.get(f"{key}:start")
            left = started + WINDOW_SECONDS - time.time() if started is not None else WINDOW_SECONDS
            wait = max(wait, math.ceil(max(left, 1)))
    return wait


def blocked(limit: Limit, *, identifier: str, address: str) -> bool:
    return retry_after(limit, identifier=identifier, address=address) > 0


def failed(limit: Limit, *, identifier: str, address: str) -> list[str]:
    """Count one failure. Returns what this failure locked ("identifier", "address"): each is
    named once per window, on the failure that reaches its limit."""
    locked = []
    for what, key, allowed in _keys(limit, identifier, address):
        if cache.add(key, 1, WINDOW_SECONDS):
            cache.set(f"{key}:start", time.time(), WINDOW_SECONDS)
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, WINDOW_SECONDS)
                cache.set(f"{key}:start", time.time(), WINDOW_SECONDS)
                count = 1
        if count == allowed:
            locked.append(what)
    return locked


def succeeded(limit: Limit, *, identifier: str) -> None:
    cache.delete(_keys(limit, identifier, "")[0][1])


def minutes(seconds: int) -> int:
    """Whole minutes to tell a person who must wait `seconds` (at least 1)."""
    return max(1, math.ceil(seconds / 60))

"""Ending a login for good (member erasure): the account, every session it holds, its API
tokens (deleted with it) and what the guessing limiter counted for it."""

from __future__ import annotations

from django.contrib.sessions.models import Session

from justface import throttle


def delete_login(*, user, identifiers: list[str] = ()) -> int:
    """Delete the login and its sessions (database sessions, the default engine: a session row
    keeps the user id until it expires, and nobody purges expired ones unless clearsessions
    runs). `identifiers`: what the limiter keyed on for it (e-mail, username). Returns the
    number of sessions deleted."""
    user_id = str(user.pk)
    # Session data is signed and encoded, not searchable in SQL; erasures are rare, so decode.
    mine = [s.pk for s in Session.objects.iterator() if s.get_decoded().get("_auth_user_id") == user_id]
    Session.objects.filter(pk__in=mine).delete()
    user.delete()  # API tokens (authtoken) cascade
    for identifier in identifiers:
        for limit in (throttle.LOGIN, throttle.RESET):
            throttle.succeeded(limit, identifier=identifier)
    return len(mine)

"""Logins and what they hold: API tokens that expire and end with a new password, and ending a
login for good (member erasure): the account, every session it holds, its API tokens (deleted
with it) and what the guessing limiter counted for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from justface import throttle


def token_lifetime() -> timedelta:
    return timedelta(days=settings.JUSTFACE_API_TOKEN_DAYS)


def token_expires_at(token: Token) -> datetime:
    """A token works JUSTFACE_API_TOKEN_DAYS after it was issued (a fixed term: using it does not
    extend it), then its owner logs in again for a new one."""
    return token.created + token_lifetime()


def issue_api_token(*, user) -> Token:
    """The login's API token: the one it holds while that works, else a new one."""
    Token.objects.filter(user=user, created__lte=timezone.now() - token_lifetime()).delete()
    token, _created = Token.objects.get_or_create(user=user)
    return token


def end_api_tokens(*, user) -> int:
    """Every API token of the login goes (a new password, a logout). Returns how many."""
    deleted, _by_model = Token.objects.filter(user=user).delete()
    return deleted


def delete_expired_api_tokens(*, at: datetime) -> int:
    """Tokens past their term (run by retention's purge): they can no longer be used anyway."""
    deleted, _by_model = Token.objects.filter(created__lte=at - token_lifetime()).delete()
    return deleted


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>`, refusing a token past its term with a 401 that says so."""

    expired_message = _("This token has expired. Log in again to get a new one.")

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            raise AuthenticationFailed(self.expired_message, code="token_expired")
        return user, token


def delete_login(*, user, identifiers: list[str] = ()) -> int:
    """Delete the login and its sessions (database sessions, the default engine: a session row
    keeps the user id until it expires, and nobody purges expired ones unless clearsessions
    runs). `identifiers`: what the limiter keyed on for it (e-mail, username). Returns the
    number of sessions deleted."""
    user_id = str(user.pk)
    # Session data is signed and encoded, not searchable in SQL; erasures are rare, so decode.
    mine = [s.pk for s in Session.objects.iterator() if s.get_decoded().get("_auth_user_id") == user_id]
    Session.objects.filter(pk__in=mine).delete()
    end_api_tokens(user=user)
    user.delete()  # (API tokens would cascade too)
    for identifier in identifiers:
        for limit in (throttle.LOGIN, throttle.RESET):
            throttle.succeeded(limit, identifier=identifier)
    return len(mine)

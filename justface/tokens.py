"""One-time links (invitations, e-mail changes, guardian confirmations): the link carries 256
random bits; the database keeps only their SHA-256, so a leaked table opens nothing."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(raw token for the link, hash for the database)."""
    raw = secrets.token_urlsafe(32)
    return raw, token_hash(raw)


class OneTimeLink(models.Model):
    """A link that works once, until it expires."""

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def issue(cls, *, member, lifetime: timedelta, **fields) -> tuple[str, OneTimeLink]:
        """A new link for ``member`` (every subclass has that key); their earlier unused links
        of this kind stop working. Returns the raw token, for the e-mail only, and the row."""
        cls.revoke_open(member)
        raw, hashed = new_token()
        link = cls._default_manager.create(
            member=member, token_hash=hashed, expires_at=timezone.now() + lifetime, **fields
        )
        return raw, link

    @classmethod
    def revoke_open(cls, member) -> None:
        cls._default_manager.filter(member=member, used_at=None).update(used_at=timezone.now())

    def mark_used(self) -> None:
        self.used_at = timezone.now()
        self.save(update_fields=["used_at"])

    @classmethod
    def usable(cls, raw: str) -> models.QuerySet:
        """The row behind a raw token if it is unused and unexpired (lock it before using it)."""
        return cls._default_manager.filter(
            token_hash=token_hash(raw or ""), used_at=None, expires_at__gt=timezone.now()
        )

"""Platform-wide models: the login account and the audit trail."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login: platform operator (superuser), staff (see members.StaffRole) or, later, a member.

    Kept as our own model from the first migration so that it can grow without a swap."""

    # Staff pages' language (justface.middleware.StaffLanguageMiddleware); blank: the browser's.
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        db_table = "justface_user"

    def save(self, *args, **kwargs):
        # set_password() keeps the new password in _password until the save (a hash upgrade at
        # login clears it first): a new password, however it was set (reset link, the admin's
        # password change, `changepassword`), ends every API token of the login.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            from justface.accounts import end_api_tokens

            end_api_tokens(user=self)


class AppendOnlyError(Exception):
    """An audit entry was about to be changed or deleted."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """Who did what to which object, when and why. Ids only: no personal data in here.

    Append-only in three layers: this model, the admin (read-only) and, on PostgreSQL, a
    trigger that refuses UPDATE and DELETE (migration 0002)."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Staff")
        PLATFORM = "platform", _("Platform operator")
        MEMBER = "member", _("Member")
        DEVICE = "device", _("Door device")
        INTEGRATION = "integration", _("Integration key")
        SYSTEM = "system", _("System")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True, editable=False)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    chain_id = models.BigIntegerField(_("chain id"), null=True, blank=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    # Scoped like chain-owned data (see justface.tenancy), by the plain id column.
    tenancy_chain_path = "chain_id"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at"]

    def __str__(self) -> str:
        from justface.display import audit_action, when

        return f"{when(self.at)} {audit_action(self.action)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail is append-only.")

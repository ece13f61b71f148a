"""One-time links a member follows: an invitation to join, a confirmation of a new e-mail address."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import (
    EncryptedEmailField,
)

from justface.tokens import OneTimeLink
from members.models.member import Member


class Invitation(OneTimeLink):
    """A one-time link that lets a member choose a password and reach the portal."""

    LIFETIME_DAYS = 7

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Sending failed")
        BOUNCED = "bounced", _("Bounced")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="invitations")
    # Invitations sent by a round (members.invitation_rounds) say how their e-mail fared; one sent
    # by hand is handed to the mail backend when its transaction commits and reads "sent".
    round = models.ForeignKey(
        "members.InvitationRound",
        verbose_name=_("invitation round"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        editable=False,
    )
    delivery = models.CharField(
        _("delivery"), max_length=8, choices=Delivery.choices, default=Delivery.SENT, db_index=True
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)
    # The SMTP reply code and the error's kind, never the server's text (it may quote the address).
    delivery_error = models.CharField(_("delivery error"), max_length=100, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation #{self.pk}"

    @property
    def expired(self) -> bool:
        return self.used_at is None and self.expires_at <= timezone.now()


class EmailChange(OneTimeLink):
    """A new e-mail address the member asked for; used only once they confirm it from that inbox."""

    LIFETIME_HOURS = 48

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="email_changes")
    new_email = EncryptedEmailField(_("new email"))

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    def __str__(self) -> str:
        return f"E-mail change #{self.pk}"

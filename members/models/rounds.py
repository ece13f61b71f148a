"""An invitation round: a manager invites every member of the chain (or of one centre) who has an
e-mail address and no portal login yet; the background worker sends the e-mails at
JUSTFACE_INVITE_RATE per minute (members.invitation_rounds)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InvitationRound(models.Model):
    chain = models.ForeignKey(
        "members.Chain", verbose_name=_("chain"), on_delete=models.PROTECT, related_name="invitation_rounds"
    )
    centre = models.ForeignKey(
        "members.Centre",
        verbose_name=_("centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitation_rounds",
        help_text=_("Blank: every centre of the chain."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    # Members to invite when the round started; the worker walks them in id order past this cursor.
    total = models.PositiveIntegerField(_("members to invite"), default=0, editable=False)
    last_member_id = models.BigIntegerField(_("invited up to member"), default=0, editable=False)
    # Members passed over when their turn came: a login or a live invitation by then, no e-mail any
    # more, the membership ended, or the exclusion list refused them.
    skipped = models.PositiveIntegerField(_("passed over"), default=0, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("invitation round")
        verbose_name_plural = _("invitation rounds")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from justface.display import when

        return _("Invitation round of %(when)s") % {"when": when(self.created_at)}

    @property
    def is_open(self) -> bool:
        return self.finished_at is None and self.cancelled_at is None

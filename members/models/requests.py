"""Data-subject requests (GDPR Art. 15-21) and their deadlines."""

from __future__ import annotations

import calendar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import (
    EncryptedCharField,
    EncryptedEmailField,
    EncryptedTextField,
)

from members.models.chains import Chain
from members.models.member import Member


class DataSubjectRequest(models.Model):
    """A request under GDPR Art. 15-21, received by any channel, for a member or a person not
    (yet) identified as one. Due one calendar month after receipt (Art. 12(3)); extendable by up
    to two further months with a reason that is sent to the person."""

    RESPONSE_MONTHS = 1
    MAX_EXTENSION_MONTHS = 2

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access to my data")
        RECTIFICATION = "rectification", _("Correct my data")
        ERASURE = "erasure", _("Erase my whole account")
        RESTRICTION = "restriction", _("Restrict the use of my data")
        PORTABILITY = "portability", _("My data in a machine-readable file")
        OBJECTION = "objection", _("Object to processing")

    class Objection(models.TextChoices):
        STATISTICS = "statistics", _("Use of my check-ins in statistics")
        MARKETING = "marketing", _("Direct marketing")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Member portal or app")
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")
        DESK = "desk", _("At the front desk")
        PHONE = "phone", _("Phone")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Completed")
        REFUSED = "refused", _("Refused")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS)

    chain = models.ForeignKey(
        Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="data_subject_requests"
    )
    # Kept (without the member) after an erasure, as proof that the request was answered.
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="data_subject_requests",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    objection_to = models.CharField(_("objection to"), max_length=16, choices=Objection.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.PORTAL)
    # Who asked, when it is not (yet) a known member, and where the answer goes: encrypted.
    requester_name = EncryptedCharField(_("requester's name"), max_length=200, blank=True)
    requester_email = EncryptedEmailField(_("requester's e-mail"), blank=True)
    identity_checked = models.BooleanField(_("identity checked"), default=False)
    identity_note = EncryptedTextField(
        _("identity note"), blank=True, help_text=_("How the identity was checked (no copies of documents).")
    )
    message = EncryptedTextField(_("message"), blank=True, help_text=_("The member's own words, if any."))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    extension_reason = EncryptedTextField(
        _("extension reason"), blank=True, help_text=_("Sent to the person with the new deadline.")
    )
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    response = EncryptedTextField(_("response"), blank=True, help_text=_("Shown to the member."))
    outcome_sent_at = models.DateTimeField(_("outcome sent at"), null=True, blank=True)
    # The last e-mail to the person that failed (the request then stays open); empty once one got through.
    email_error = models.CharField(_("e-mail error"), max_length=255, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # An erasure's receipt: how many of each category went (counts only, nothing that names the
    # person), kept with the request so its page shows what the erasure did.
    erasure_receipt = models.JSONField(_("erasure receipt"), default=dict, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_at"]

    def __str__(self) -> str:
        from justface.display import when

        return _("%(kind)s, received %(day)s") % {"kind": self.get_kind_display(), "day": when(self.received_at)}

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def answer_to(self) -> str:
        """Where the person's e-mails go: the address they gave, else the member's."""
        return self.requester_email or (self.member.email if self.member_id else "")

    def latest_allowed_due(self):
        return add_months(self.received_at, self.RESPONSE_MONTHS + self.MAX_EXTENSION_MONTHS)


def add_months(moment, months: int):
    """Calendar months: 31 January + 1 month is the last day of February."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))

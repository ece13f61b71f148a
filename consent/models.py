"""Consent documents (what members are asked to agree to) and the signed records proving it."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField, EncryptedEmailField, EncryptedTextField

from justface.tokens import OneTimeLink
from members.models import Chain, Language, Member


class ImmutableError(Exception):
    """A published document or a consent record was about to change."""


class ConsentDocument(models.Model):
    class Kind(models.TextChoices):
        TERMS = "terms", _("Membership terms")
        BIOMETRIC = "biometric", _("Face scan")
        MARKETING = "marketing", _("Marketing")

    # Fields a published version freezes (the row may still gain nothing else either).
    FROZEN_FIELDS = ("chain_id", "kind", "language", "version", "title", "body", "requires_reconsent", "published_at")

    chain = models.ForeignKey(
        Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="consent_documents"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    requires_reconsent = models.BooleanField(
        _("requires reconsent"), default=False, help_text=_("Members who signed an earlier version must sign this one.")
    )
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True, help_text=_("Once published, the text can no longer change.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("consent document")
        verbose_name_plural = _("consent documents")
        ordering = ["chain", "kind", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "kind", "language", "version"], name="consent_document_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return _("%(kind)s, version %(version)s (%(language)s)") % {
            "kind": self.get_kind_display(),
            "version": self.version,
            "language": self.language,
        }

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def text(self) -> str:
        """The exact text a member reads and agrees to: title, blank line, body."""
        return f"{self.title}\n\n{self.body}"

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def save(self, *args, **kwargs):
        # Once published, a version is evidence: what members agreed to must stay what they read.
        if self.pk is not None:
            stored = ConsentDocument.objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS).first()
            if stored and stored["published_at"] is not None:
                if any(getattr(self, f) != stored[f] for f in self.FROZEN_FIELDS):
                    raise ImmutableError("A published consent document cannot change; publish a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise ImmutableError("A published consent document cannot be deleted.")
        return super().delete(*args, **kwargs)


class ConsentRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("Consent records are append-only.")


class ConsentRecord(models.Model):
    """Append-only: a withdrawal is a new record, never an edit of the signature. Rows go only
    with the member's whole account (erasure)."""

    class Action(models.TextChoices):
        SIGN = "sign", _("Signed")
        WITHDRAW = "withdraw", _("Withdrawn")
        GUARDIAN_CONFIRM = "guardian_confirm", _("Confirmed by guardian")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Member portal")
        API = "api", _("Member app")
        DESK = "desk", _("Front desk screen")
        GUARDIAN_LINK = "guardian_link", _("Guardian's link")
        OTHER = "other", _("Other")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="consent_records"
    )
    document = models.ForeignKey(
        ConsentDocument, verbose_name=_("document"), on_delete=models.PROTECT, related_name="records"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    text_sha256 = models.CharField(_("text sha256"), max_length=64)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    ip_address = EncryptedCharField(_("ip address"), max_length=45, blank=True)
    user_agent = EncryptedTextField(_("user agent"), blank=True)
    typed_name = EncryptedCharField(_("typed name"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.OTHER)
    # For a withdrawal of the biometric consent: what was erased and when (counts, no personal data).
    receipt = models.JSONField(_("receipt"), default=dict, blank=True)

    objects = ConsentRecordQuerySet.as_manager()

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-at"]

    def __str__(self) -> str:
        from justface.display import when

        return _("%(action)s: %(document)s, %(when)s") % {
            "action": self.get_action_display(),
            "document": self.document,
            "when": when(self.at),
        }

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("Consent records are append-only.")
        super().save(*args, **kwargs)


class GuardianConfirmation(OneTimeLink):
    """A minor's biometric consent waits for this: the named guardian confirms through their own link."""

    LIFETIME_DAYS = 14

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="guardian_confirmations"
    )
    signature = models.ForeignKey(
        ConsentRecord, verbose_name=_("signature"), on_delete=models.CASCADE, related_name="guardian_requests"
    )
    guardian_name = EncryptedCharField(_("guardian name"), max_length=200)
    guardian_email = EncryptedEmailField(_("guardian email"))

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    def __str__(self) -> str:
        return f"Guardian confirmation #{self.pk}"

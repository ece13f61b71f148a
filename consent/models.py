"""Consent documents (what members are asked to agree to) and the signed records proving it."""
from django.db import models
from encrypted_model_fields.fields import EncryptedCharField, EncryptedTextField

from members.models import Chain, Language, Member


class ConsentDocument(models.Model):
    class Kind(models.TextChoices):
        TERMS = "terms", "Membership terms (contract)"
        BIOMETRIC = "biometric", "Face scan (explicit consent, GDPR Art. 9(2)(a))"
        MARKETING = "marketing", "Marketing (optional)"

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="consent_documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    requires_reconsent = models.BooleanField(default=False, help_text="Members who signed an earlier version must sign this one.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="Once published, the text can no longer change.")
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        ordering = ["chain", "kind", "language", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "kind", "language", "version"], name="consent_document_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.language})"


class ConsentRecord(models.Model):
    """Append-only: a withdrawal is a new record, never an edit of the signature."""

    class Action(models.TextChoices):
        SIGN = "sign", "Signed"
        WITHDRAW = "withdraw", "Withdrawn"
        GUARDIAN_CONFIRM = "guardian_confirm", "Confirmed by guardian"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consent_records")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="records")
    action = models.CharField(max_length=20, choices=Action.choices)
    text_sha256 = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = EncryptedCharField(max_length=45, blank=True)
    user_agent = EncryptedTextField(blank=True)
    typed_name = EncryptedCharField(max_length=200, blank=True)

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.document} at {self.at:%Y-%m-%d %H:%M}"

"""The consent and face endpoints' shapes (consent.api.views)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from consent.facts import biometric_facts
from consent.models import ConsentDocument, ConsentRecord


class DocumentSerializer(serializers.ModelSerializer):
    text_sha256 = serializers.CharField(read_only=True)
    key_facts = serializers.SerializerMethodField(help_text="Shown before the text of the biometric consent.")

    class Meta:
        model = ConsentDocument
        fields = [
            "id",
            "kind",
            "language",
            "version",
            "title",
            "body",
            "text_sha256",
            "requires_reconsent",
            "published_at",
            "key_facts",
        ]

    def get_key_facts(self, document: ConsentDocument) -> list[str]:
        return biometric_facts(document.chain.policy) if document.kind == ConsentDocument.Kind.BIOMETRIC else []


class StateSerializer(serializers.Serializer):
    kind = serializers.CharField()
    document = DocumentSerializer(allow_null=True)
    signed_document_id = serializers.IntegerField(source="signature.document_id", allow_null=True, default=None)
    signed_at = serializers.DateTimeField(source="signature.at", allow_null=True, default=None)
    active = serializers.BooleanField()
    awaiting_guardian = serializers.BooleanField()
    reconsent_needed = serializers.BooleanField()


class RecordSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="document.kind")
    version = serializers.IntegerField(source="document.version")
    language = serializers.CharField(source="document.language")

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "document",
            "kind",
            "version",
            "language",
            "action",
            "at",
            "text_sha256",
            "channel",
            "typed_name",
            "receipt",
        ]


class SignSerializer(serializers.Serializer):
    document = serializers.IntegerField(help_text="The id of the current published version (see documents).")
    typed_name = serializers.CharField(max_length=200, help_text="The member's full name, as on the membership.")
    agree = serializers.BooleanField(help_text="Must be true: the member ticked 'I agree' (never pre-ticked).")
    guardian_name = serializers.CharField(max_length=200, required=False, default="")
    guardian_email = serializers.EmailField(required=False, default="")

    def validate_agree(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(_("Consent needs an explicit yes."))
        return value


class WithdrawSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[ConsentDocument.Kind.BIOMETRIC, ConsentDocument.Kind.MARKETING])


class FaceSerializer(serializers.Serializer):
    enrolled = serializers.BooleanField()
    enrolled_at = serializers.DateTimeField(allow_null=True)
    photo_kept = serializers.BooleanField()
    consent_active = serializers.BooleanField()
    renew_photo = serializers.BooleanField(
        help_text="Enrolled, but not with the current recognition model: send a new photo (the door still "
        "recognises the member while the move between models lasts)."
    )
    pending_review = serializers.BooleanField(
        help_text="A newer photo did not match the enrolled face and waits for staff to review it; until "
        "they approve it, the enrolled face is used as before."
    )
    pending_since = serializers.DateTimeField(allow_null=True)


class PendingReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending_review"])
    code = serializers.ChoiceField(choices=["pending_review"])
    detail = serializers.CharField(help_text="What the member is told, in the request's language.")
    face = FaceSerializer(help_text="The face status: unchanged, with pending_review true.")


class ReceiptSerializer(serializers.Serializer):
    erased_at = serializers.CharField()
    face_templates = serializers.IntegerField()
    member_photos = serializers.IntegerField()
    door_photos = serializers.IntegerField()

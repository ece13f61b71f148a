"""Face templates (biometric data), the photo awaiting staff review, and the gallery's change log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import (
    EncryptedTextField,
)

from members.models.chains import Chain
from members.models.member import Member


class FaceTemplate(models.Model):
    """A member's face template (biometric data, GDPR Art. 9): only with valid consent, encrypted."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="face_templates"
    )
    # Base64 of the float32 vector, then encrypted.
    template = EncryptedTextField(_("template"))
    model_name = models.CharField(_("model name"), max_length=64)
    # The enrollment selfie, kept (encrypted, justface.private_files) only where the chain's
    # policy keeps member photos; erased with the template.
    photo_file = models.CharField(_("photo file"), max_length=200, blank=True, editable=False)
    # False when the enrollment photo was not clearly live (a print of someone else is
    # the other half of the attack): the member's next face entry asks for the head-turn
    # challenge, and passing it sets this (access.liveness.confirm_enrollment).
    enrolled_live = models.BooleanField(_("enrolled live"), default=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    def __str__(self) -> str:
        from justface.display import when

        return _("Face template enrolled %(when)s") % {"when": when(self.created_at)}


class PendingFacePhoto(models.Model):
    """A new enrollment photo of a member who already has templates that did not match them
    (a member must not enroll someone else's face). Nothing of it reaches the
    templates until staff with the right (Perm.APPROVE_FACES) compare it with the enrollment
    photo and approve it; rejected, withdrawn, erased with the member or after
    PENDING_FACE_PHOTO_DAYS, the photo is erased. One per member: a newer one replaces it."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Member portal")
        API = "api", _("Member API")
        DESK = "desk", _("Front desk")

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="pending_face_photo"
    )
    # The photo, encrypted (justface.private_files), like a kept enrollment photo.
    photo_file = models.CharField(_("photo file"), max_length=200, editable=False)
    model_name = models.CharField(_("model name"), max_length=64, editable=False)
    # The best similarity to the member's templates (None: none of a model that could compare).
    score = models.FloatField(_("score"), null=True, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    tenancy_chain_path = "member__chain"
    tenancy_centre_path = "member__home_centre"

    class Meta:
        verbose_name = _("face photo awaiting review")
        verbose_name_plural = _("face photos awaiting review")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Face photo awaiting review #{self.pk}"


class GalleryChange(models.Model):
    """One step of a chain's gallery: at ``version`` the face templates of ``member_id`` changed
    (added, replaced or erased). Every process replays the steps since its own version, touching
    only those members (members.gallery); ids only, deleted after two days (a process further
    behind reloads whole). ``member_id`` empty: the whole chain changed."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField(_("gallery version"))
    member_id = models.BigIntegerField(_("member id"), null=True)  # not a key: the member may be erased
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("gallery change")
        verbose_name_plural = _("gallery changes")
        indexes = [models.Index(fields=["chain", "version"], name="gallery_change_step")]

    def __str__(self) -> str:
        return f"Gallery change {self.chain_id}/{self.version}"


# Self-service: invitations to the portal, verified e-mail changes and data-subject requests.

"""Members, their exclusions (quarantines), and the keyed hashes that match a person without holding the value."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)

from justface import crypto
from members.models.chains import Centre, Chain


class Member(models.Model):
    """A member of a chain. Master data is encrypted at rest; the *_hash columns beside it are
    keyed hashes (HMAC) that allow exact look-ups without decrypting anything."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNSPECIFIED = "unspecified", _("Prefers not to say")

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="members")
    home_centre = models.ForeignKey(
        Centre, verbose_name=_("home centre"), on_delete=models.PROTECT, related_name="members"
    )
    member_number = EncryptedCharField(_("member number"), max_length=32)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    membership_type = models.CharField(_("membership type"), max_length=64, blank=True)
    start_date = models.DateField(_("start date"), default=date.today)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # When the status became "ended" (set by save()): what retention counts from when there is no
    # end date. Later edits of the member do not move it.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    # Data-subject requests with an effect (members.selectors.face_entry_paused, counted_in_statistics):
    # restriction (Art. 18): face entry paused and no statistics or marketing use, until lifted;
    # objections (Art. 21) to statistics or to direct marketing, in effect from the moment recorded.
    restricted_since = models.DateTimeField(_("restricted since"), null=True, blank=True, editable=False)
    objects_to_statistics_since = models.DateTimeField(
        _("objects to statistics since"), null=True, blank=True, editable=False
    )
    objects_to_marketing_since = models.DateTimeField(
        _("objects to marketing since"), null=True, blank=True, editable=False
    )

    first_name = EncryptedCharField(_("first name"), max_length=100)
    last_name = EncryptedCharField(_("last name"), max_length=100)
    address = EncryptedTextField(_("address"), blank=True)
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    email = EncryptedEmailField(_("email"), blank=True)
    birth_date = EncryptedDateField(_("birth date"), null=True, blank=True)
    gender = EncryptedCharField(_("gender"), max_length=16, choices=Gender.choices, default=Gender.UNSPECIFIED)
    guardian_name = EncryptedCharField(
        _("guardian name"), max_length=200, blank=True, help_text=_("For members under the chain's minor age.")
    )
    guardian_email = EncryptedEmailField(_("guardian email"), blank=True)

    # The member's own login for the self-service portal and API (set when they accept an invitation).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        editable=False,
    )
    # The door PIN, hashed like a password (members.services.set_pin); the alternative to face scan.
    pin_hash = models.CharField(_("pin hash"), max_length=128, blank=True, editable=False)
    pin_set_at = models.DateTimeField(_("pin set at"), null=True, blank=True, editable=False)
    # The day the member's face data were last erased at their own request ("delete my face
    # data", or withdrawing face consent), while they had a face enrolled: not biometric (no
    # template, no photo), only the fact and the day, so that their next "first" enrollment is
    # checked by staff like a photo that does not match (else deleting the face would
    # let a member enroll someone else's). Cleared when a face is enrolled again; goes with the member.
    face_erased_on = models.DateField(_("face data deleted on"), null=True, blank=True, editable=False)

    member_number_hash = models.CharField(_("member number hash"), max_length=64, editable=False)
    email_hash = models.CharField(_("email hash"), max_length=64, blank=True, editable=False, db_index=True)
    phone_hash = models.CharField(_("phone hash"), max_length=64, blank=True, editable=False, db_index=True)
    # Space-separated truncated keyed hashes of the name's words (see README: name search).
    name_index = models.TextField(_("name index"), blank=True, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = "home_centre"

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "member_number_hash"], name="member_number_unique_per_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.member_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def clean(self) -> None:
        if self.home_centre_id and self.chain_id and self.home_centre.chain_id != self.chain_id:
            raise ValidationError({"home_centre": "The home centre must belong to the member's chain."})
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The membership cannot end before it starts."})
        if self.member_number and self.chain_id:
            clash = Member.objects.filter(
                chain_id=self.chain_id, member_number_hash=member_number_hash(self.member_number)
            )
            if clash.exclude(pk=self.pk).exists():
                raise ValidationError({"member_number": _("Another member of this chain has that number.")})

    def save(self, *args, **kwargs):
        self.refresh_lookup_hashes()
        self.refresh_ended_at()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {
                "member_number_hash",
                "email_hash",
                "phone_hash",
                "name_index",
                "ended_at",
            }
        super().save(*args, **kwargs)

    def refresh_ended_at(self) -> None:
        """Stamp the moment the membership became ended; clear it if it is active again."""
        if self.status == self.Status.ENDED:
            self.ended_at = self.ended_at or timezone.now()
        else:
            self.ended_at = None

    def membership_end_day(self) -> date | None:
        """The membership's last day: the end date, else the day the status became ended."""
        if self.end_date is not None:
            return self.end_date
        return timezone.localdate(self.ended_at) if self.ended_at else None

    def refresh_lookup_hashes(self) -> None:
        self.member_number_hash = member_number_hash(self.member_number)
        self.email_hash = email_hash(self.email) if self.email else ""
        self.phone_hash = phone_hash(self.phone) if self.phone else ""
        self.name_index = " ".join(
            sorted({crypto.name_token_hash(t) for t in crypto.name_tokens(self.first_name, self.last_name)})
        )


class Exclusion(models.Model):
    """A quarantine: refuses entry (and, where the chain so decides, a new membership) while it
    lasts. Kept until it ends, at most the chain's exclusion_max_days (or, where the chain allows
    it, permanently). Besides the member number it keeps only keyed hashes of the person's e-mail,
    phone and name with birth date, so that a new membership can be checked against it without
    the list holding those values."""

    class Category(models.TextChoices):
        VIOLENCE = "violence", _("Violence or threats")
        HARASSMENT = "harassment", _("Harassment")
        THEFT_DAMAGE = "theft_damage", _("Theft or damage")
        MISUSE = "misuse", _("Misuse of access (lending the membership, letting others in)")
        HOUSE_RULES = "house_rules", _("Repeated breach of the house rules")
        OTHER = "other", _("Other (say why in the text)")

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="exclusions")
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.SET_NULL, null=True, blank=True, related_name="exclusions"
    )
    member_number = EncryptedCharField(_("member number"), max_length=32, blank=True)
    member_number_hash = models.CharField(_("member number hash"), max_length=64, editable=False, db_index=True)
    full_name = EncryptedCharField(_("full name"), max_length=200)
    email_hash = models.CharField(_("e-mail hash"), max_length=64, blank=True, editable=False, db_index=True)
    phone_hash = models.CharField(_("phone hash"), max_length=64, blank=True, editable=False, db_index=True)
    name_birth_hash = models.CharField(
        _("name and birth date hash"), max_length=64, blank=True, editable=False, db_index=True
    )
    category = models.CharField(_("reason"), max_length=16, choices=Category.choices, default=Category.OTHER)
    starts_on = models.DateField(_("starts on"), default=date.today)
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("Blank: permanent (only where the chain allows it).")
    )
    reason = EncryptedTextField(_("what happened"), blank=True, help_text=_("Encrypted. Facts only, as few as needed."))
    letter = EncryptedTextField(_("letter"), blank=True, help_text=_("The letter sent to the person."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        from justface.display import when

        if self.member_number:
            return _("Exclusion of member %(number)s from %(day)s") % {
                "number": self.member_number,
                "day": when(self.starts_on),
            }
        return _("Exclusion from %(day)s") % {"day": when(self.starts_on)}

    def save(self, *args, **kwargs):
        self.member_number_hash = member_number_hash(self.member_number) if self.member_number else ""
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The chain's limits: an end date at most exclusion_max_days after the start, none only
        where exclusion_permanent_allowed."""
        if not self.chain_id:
            return
        policy = self.chain.policy
        if self.ends_on is None:
            if not policy.exclusion_permanent_allowed:
                raise ValidationError(
                    {"ends_on": _("Give an end date: this chain does not allow permanent exclusions.")}
                )
            return
        if self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The exclusion cannot end before it starts.")})
        if self.starts_on and (self.ends_on - self.starts_on).days > policy.exclusion_max_days:
            raise ValidationError(
                {
                    "ends_on": _("An exclusion may last at most %(days)d days in this chain.")
                    % {"days": policy.exclusion_max_days}
                }
            )

    def set_identity(
        self,
        *,
        email: str = "",
        phone: str = "",
        first_name: str = "",
        last_name: str = "",
        birth_date: date | None = None,
    ) -> None:
        """Keep the keyed hashes the membership check matches on (never the values)."""
        self.email_hash = email_hash(email) if email else ""
        self.phone_hash = phone_hash(phone) if phone else ""
        self.name_birth_hash = name_birth_hash(first_name, last_name, birth_date) if birth_date else ""


def name_birth_hash(first_name: str, last_name: str, birth_date: date) -> str:
    """Name words (any order, case and accents ignored) with the birth date."""
    return crypto.keyed_hash(
        "name_birth", " ".join(sorted(crypto.name_tokens(first_name, last_name))) + "|" + birth_date.isoformat()
    )


def member_number_hash(value: str) -> str:
    return crypto.keyed_hash("member_number", crypto.normalise_member_number(value))


def email_hash(value: str) -> str:
    return crypto.keyed_hash("email", crypto.normalise_email(value))


def phone_hash(value: str) -> str:
    return crypto.keyed_hash("phone", crypto.normalise_phone(value))

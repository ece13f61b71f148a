"""Chains (the data controllers), their centres, staff roles, members and face templates."""

from __future__ import annotations

import calendar
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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
from justface.tenancy import Role
from justface.tokens import OneTimeLink
from members.policy import ChainPolicy, validate_policy
from members.validators import validate_opening_hours, validate_time_zone


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    DANISH = "da", "Dansk"
    NORWEGIAN = "nb", "Norsk bokmål"


class Chain(models.Model):
    """A fitness chain or single gym: the data controller. Everything below belongs to one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    organisation_number = models.CharField(
        _("organisation number"), max_length=32, help_text=_("CVR or organisasjonsnummer.")
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=[("DK", _("Denmark")), ("NO", _("Norway")), ("SE", _("Sweden")), ("FI", _("Finland"))],
    )
    default_language = models.CharField(
        _("default language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    dpo_name = models.CharField(_("DPO name"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("DPO e-mail"))
    settings = models.JSONField(
        _("settings"),
        default=dict,
        blank=True,
        validators=[validate_policy],
        help_text=_("Per-chain policy; see README."),
    )
    # Bumped whenever a template of the chain is added or removed, so every worker's in-memory
    # gallery knows it is stale (see members.gallery).
    gallery_version = models.PositiveBigIntegerField(_("gallery version"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenancy_chain_path = "id"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("chain")
        verbose_name_plural = _("chains")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def policy(self) -> ChainPolicy:
        return ChainPolicy.from_settings(self.settings)


class Liveness(models.TextChoices):
    """How a centre's doors check that the face is a live person (docs/door.md, *Liveness*)."""

    OFF = "off", _("Off (no liveness check)")
    PASSIVE = "passive", _("Passive check only")
    CHALLENGE_ALWAYS = "challenge_always", _("Passive check plus head-turn challenge on every entry")
    CHALLENGE_IN_DOUBT = "challenge_in_doubt", _("Passive check; head-turn challenge when in doubt")


class Centre(models.Model):
    Liveness = Liveness

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="centres")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"))
    address = models.TextField(_("address"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Copenhagen", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        help_text=_("Door language; blank: the chain's."),
    )
    opening_hours = models.JSONField(
        _("opening hours"),
        default=dict,
        blank=True,
        validators=[validate_opening_hours],
        help_text=_('{"mon": [["06:00", "22:00"]], ...}; a day left out is closed.'),
    )
    liveness = models.CharField(
        _("liveness check"),
        max_length=24,
        choices=Liveness.choices,
        default=Liveness.CHALLENGE_IN_DOUBT,
        help_text=_(
            "Checks that a face at the door (and in an enrollment photo of a member of this centre) is a live "
            "person, not a print or a screen. 'When in doubt': a passive score in the grey band, or a random "
            "share of entries, get the head-turn challenge."
        ),
    )
    liveness_challenge_percent = models.PositiveSmallIntegerField(
        _("random challenges (%)"),
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("'When in doubt' only: this percentage of face entries also gets the challenge, at random."),
    )

    tenancy_chain_path = "chain"
    tenancy_centre_path = "id"

    class Meta:
        verbose_name = _("centre")
        verbose_name_plural = _("centres")
        ordering = ["chain__name", "name"]
        constraints = [models.UniqueConstraint(fields=["chain", "slug"], name="centre_slug_unique_per_chain")]

    def __str__(self) -> str:
        return self.name

    @property
    def door_language(self) -> str:
        return self.language or self.chain.default_language


class StaffRole(models.Model):
    """Makes a login a member of a chain's staff. Front-desk staff see only their centres."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff_role"
    )
    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    centres = models.ManyToManyField(
        Centre,
        verbose_name=_("centres"),
        blank=True,
        related_name="staff",
        help_text=_("Front desk: the centres they work at."),
    )

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.chain})"


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
    # checked by staff like a photo that does not match (issue #21: else deleting the face would
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
    # Issue #27: False when the enrollment photo was not clearly live (a print of someone else is
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
    (issue #21: a member must not enroll someone else's face). Nothing of it reaches the
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


# Models kept in modules of their own (this one is long enough); imported here so Django finds them.
from members.invitation_models import InvitationRound  # noqa: E402, F401

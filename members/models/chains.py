"""Chains (the data controllers), their centres and their staff roles."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from justface.tenancy import Role
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

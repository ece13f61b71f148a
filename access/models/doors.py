"""Doors and the tablets (device tokens) that guard them."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Centre
from members.validators import validate_opening_hours


class AntiPassback(models.TextChoices):
    OFF = "off", _("Off")
    REFUSE = "refuse", _("Refuse the second entry")
    FLAG = "flag", _("Let in, flag the event for staff")


class PassbackScope(models.TextChoices):
    DOOR = "door", _("This door only")
    CENTRE = "centre", _("Any door of the centre")


class Door(models.Model):
    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="doors")
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Liveness calibrated to this door's camera (access.liveness.recalibrate): the cuts
    # above which a frame is clearly live ({} = the conservative default), and statistics of the
    # door's recent granted face entries. Door-level figures only: nothing here names a member.
    liveness_reference = models.JSONField(_("liveness reference"), default=dict, blank=True, editable=False)
    liveness_calibrated_at = models.DateTimeField(_("liveness calibrated at"), null=True, blank=True, editable=False)
    liveness_reset_at = models.DateTimeField(_("liveness reset at"), null=True, blank=True, editable=False)
    liveness_stats = models.JSONField(_("liveness statistics"), default=dict, blank=True, editable=False)
    # Rules per door (access.rules.door_refusal, entry_refusal, entry_flag). Every
    # default keeps the door as it was: the centre's hours, every membership type, both ways.
    opening_hours = models.JSONField(
        _("door opening hours"),
        default=dict,
        blank=True,
        validators=[validate_opening_hours],
        help_text=_("Empty: the centre's opening hours."),
    )
    membership_types = models.CharField(
        _("membership types allowed"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated, as written on the members (e.g. Premium, Women); empty: every membership type."),
    )
    exit_only = models.BooleanField(
        _("exit only"), default=False, help_text=_("Members may leave through this door, never enter.")
    )
    anti_passback = models.CharField(
        _("anti-passback"),
        max_length=8,
        choices=AntiPassback.choices,
        default=AntiPassback.OFF,
        help_text=_(
            "A second entry without a check-out in between, within the window: refused, or let in and flagged."
        ),
    )
    anti_passback_minutes = models.PositiveSmallIntegerField(
        _("anti-passback window (minutes)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    anti_passback_scope = models.CharField(
        _("anti-passback counts entries at"),
        max_length=8,
        choices=PassbackScope.choices,
        default=PassbackScope.DOOR,
    )
    refuse_pin_reuse = models.BooleanField(
        _("refuse a PIN used at another door within a minute"),
        default=False,
        help_text=_("A member's PIN that let someone in at another door less than a minute ago is refused here."),
    )
    # Door agents: a contact open longer than this is reported `held_open`.
    held_open_seconds = models.PositiveIntegerField(
        _("held-open limit (seconds)"),
        null=True,
        blank=True,
        help_text=_("An open door is reported held open after this long. Empty: 30 seconds."),
    )

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name = _("door")
        verbose_name_plural = _("doors")
        ordering = ["centre", "name"]
        constraints = [models.UniqueConstraint(fields=["centre", "name"], name="door_name_unique_per_centre")]

    def __str__(self) -> str:
        return f"{self.centre} – {self.name}"

    @property
    def held_open_limit(self) -> int:
        return self.held_open_seconds or 30


class DeviceToken(models.Model):
    """A door tablet's credential: only a hash of the token is stored; revocation is immediate."""

    door = models.ForeignKey(Door, verbose_name=_("door"), on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("Which tablet holds it, e.g. 'Entrance iPad'.")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True, editable=False)
    # What the tablet reported in its last heartbeat (app version, camera state): no personal data.
    last_status = models.JSONField(_("last status"), default=dict, blank=True, editable=False)

    tenancy_chain_path = "door__centre__chain"
    tenancy_centre_path = "door__centre"

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")

    def __str__(self) -> str:
        return _("Device token for %(door)s") % {"door": self.door} + (f" ({self.label})" if self.label else "")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

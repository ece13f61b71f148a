"""What the tablets ask (scans and PIN entries), their challenges, the access events they
produce, the visits (check-in to check-out) that give live occupancy, and the PIN lockouts."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models.doors import DeviceToken, Door
from members.models import Centre, Chain, Member


class Method(models.TextChoices):
    FACE = "face", _("Face")
    PIN = "pin", _("PIN")
    # A face in the grey zone, confirmed by the proposed member's PIN (no member number typed).
    FACE_PIN = "face_pin", _("Face and PIN")


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class Scan(models.Model):
    """One request to pass a door, by camera frame (method face) or PIN entry, from arrival to
    decision. Its id is what the tablet polls; its frame, when one is kept, is the door photo."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        # The face matched a member only moderately: waiting for that member's PIN (the scan's
        # member is the proposed one; no access event until the PIN decides, or time runs out).
        CONFIRM = "confirm", _("Waiting for the PIN")
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")
        # Waiting for the answer to a liveness challenge (access.liveness): not decided yet, but
        # the tablet has its answer for now (the challenge) and need not poll.
        CHALLENGE = "challenge", _("Challenge")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(DeviceToken, verbose_name=_("device"), on_delete=models.CASCADE, related_name="scans")
    door = models.ForeignKey(Door, verbose_name=_("door"), on_delete=models.CASCADE, related_name="scans")
    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="scans")
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.IN)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, null=True, blank=True, related_name="scans"
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    # PIN entries only: keyed hash of the member number typed, to count failures for lockouts.
    member_number_hash = models.CharField(_("member number hash"), max_length=64, blank=True)
    # The encrypted frame (justface.private_files) while it may be kept, and when it must go.
    # The face's similarity to the proposed member while it waits for their PIN (status confirm),
    # carried into the access event.
    score = models.FloatField(_("score"), null=True, blank=True)
    margin = models.FloatField(_("margin"), null=True, blank=True)
    frame_file = models.CharField(_("frame file"), max_length=200, blank=True, editable=False)
    frame_expires_at = models.DateTimeField(_("frame expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # What the tablet said it handles when it sent the scan (comma-separated: challenge, confirm;
    # access.services.verdicts.FEATURE_*): a status it did not declare is never given to it.
    client_supports = models.CharField(_("client supports"), max_length=64, blank=True, editable=False)
    # Faces seen: the most of the tablet's own count (sent with the scan, optional) and the
    # server's detector on the frame it analysed (smaller faces further back included). More than
    # one on a grant that opens the door is a tailgating hint (access.door_agents).
    faces = models.PositiveSmallIntegerField(_("faces seen"), null=True, blank=True, editable=False)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="scan_idempotency_key_unique_per_device",
            ),
        ]
        indexes = [
            models.Index(fields=["member_number_hash", "created_at"], name="scan_pin_failures"),
            models.Index(fields=["frame_expires_at"], condition=~Q(frame_file=""), name="scan_frames_due"),
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="scan_pending"),
        ]

    def __str__(self) -> str:
        return f"Scan {self.pk} ({self.status})"

    @property
    def supports(self) -> frozenset[str]:
        return frozenset(f for f in self.client_supports.split(",") if f)

    @property
    def is_decided(self) -> bool:
        """Nothing more to wait for: decided, or answered with a challenge."""
        return self.status != self.Status.PENDING


class Challenge(models.Model):
    """A liveness challenge issued to one door tablet for one scan (access.liveness): a random
    instruction, a nonce (only its SHA-256 stored), a short expiry, one answer."""

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, related_name="challenge")
    device = models.ForeignKey(DeviceToken, on_delete=models.CASCADE, related_name="challenges")
    instruction = models.CharField(max_length=16)
    nonce_hash = models.CharField(max_length=64, editable=False)
    trigger = models.CharField(max_length=16, blank=True, help_text="always, doubt, random or extra")
    passive_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    tenancy_chain_path = "scan__centre__chain"
    tenancy_centre_path = "scan__centre"

    def __str__(self) -> str:
        return f"Challenge {self.instruction} for scan {self.scan_id}"


class AccessEvent(models.Model):
    Method = Method
    Direction = Direction

    class Decision(models.TextChoices):
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="access_events")
    door = models.ForeignKey(
        Door, verbose_name=_("door"), on_delete=models.SET_NULL, null=True, blank=True, related_name="access_events"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, null=True, blank=True, related_name="access_events"
    )
    # The request this event decided; scans are purged long before events (see docs/door.md).
    scan = models.OneToOneField(
        Scan, verbose_name=_("scan"), on_delete=models.SET_NULL, null=True, blank=True, related_name="event"
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.IN)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    reason = models.CharField(_("reason"), max_length=32)
    score = models.FloatField(_("score"), null=True, blank=True)
    margin = models.FloatField(_("margin"), null=True, blank=True)
    # Liveness: the last layer the scan went through ("passive", "challenge"; for a
    # `liveness_failed` event the layer that failed), the passive score, and the challenge's
    # measures. Scores only: no frame is kept beyond the door-photo rules.
    liveness_layer = models.CharField(_("liveness layer"), max_length=16, blank=True, db_index=True)
    liveness_score = models.FloatField(_("liveness score"), null=True, blank=True)
    liveness_detail = models.JSONField(_("liveness detail"), default=dict, blank=True)
    # A door rule that let the member in but wants staff to look ("anti_passback"),
    # derived from the events themselves: no new personal data.
    flag = models.CharField(_("flag"), max_length=32, blank=True, db_index=True)
    # When the door's agent reported the relay moved for this grant.
    door_opened_at = models.DateTimeField(_("door opened at"), null=True, blank=True)
    faces = models.PositiveSmallIntegerField(_("faces seen"), null=True, blank=True)  # from the scan
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at"]

    def __str__(self) -> str:
        from justface.display import label, when

        return _("%(decision)s: %(reason)s, %(when)s") % {
            "decision": self.get_decision_display(),
            "reason": label("access.reason", self.reason),
            "when": when(self.at),
        }


class Visit(models.Model):
    """A member inside a centre: opened by a granted check-in, closed by check-out, a later
    check-in, or its end (the centre's closing time or the chain's maximum), whichever first."""

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="visits")
    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="visits")
    check_in_scan = models.OneToOneField(
        Scan, verbose_name=_("check-in scan"), on_delete=models.SET_NULL, null=True, blank=True, related_name="visit"
    )
    checked_in_at = models.DateTimeField(_("checked in at"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-checked_in_at"]
        indexes = [models.Index(fields=["centre", "ends_at"], condition=Q(checked_out_at=None), name="visit_open")]

    def __str__(self) -> str:
        from justface.display import when

        return _("Visit from %(when)s") % {"when": when(self.checked_in_at)}


class PinLockout(models.Model):
    """The PIN pad's failure count and lock for one key: a member number within a chain, or a
    whole device. One row per key, read and written only under its row lock
    (access.services.reserve_pin_attempt), so parallel entries cannot pass the limits."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="pin_lockouts")
    device = models.ForeignKey(
        DeviceToken,
        verbose_name=_("device"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pin_lockouts",
    )
    member_number_hash = models.CharField(_("member number hash"), max_length=64, blank=True)
    # Wrong PINs, and entries being checked right now, since the window started.
    failures = models.PositiveIntegerField(_("failures"), default=0)
    window_started_at = models.DateTimeField(_("window started at"), default=timezone.now)
    # Devices only: wrong PINs on the centre's local day `day` (the daily cap).
    day = models.DateField(_("day"), null=True, blank=True)
    day_failures = models.PositiveIntegerField(_("day failures"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("PIN lockout")
        verbose_name_plural = _("PIN lockouts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(device__isnull=False) | ~Q(member_number_hash=""), name="pin_lockout_names_device_or_number"
            ),
            models.UniqueConstraint(
                fields=["chain", "member_number_hash"],
                condition=Q(device__isnull=True),
                name="pin_lockout_one_row_per_number",
            ),
            models.UniqueConstraint(
                fields=["device"], condition=Q(device__isnull=False), name="pin_lockout_one_row_per_device"
            ),
        ]

    def __str__(self) -> str:
        return f"PIN lockout #{self.pk}" + (f" until {self.locked_until:%Y-%m-%d %H:%M}" if self.locked_until else "")

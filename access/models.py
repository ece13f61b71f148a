"""Doors, the tablets that guard them, what the tablets ask (scans and PIN entries), the access
events they produce, and the visits (check-in to check-out) that give live occupancy."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Centre, Chain, Member
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
    # Liveness calibrated to this door's camera (issue #27, access.liveness.recalibrate): the cuts
    # above which a frame is clearly live ({} = the conservative default), and statistics of the
    # door's recent granted face entries. Door-level figures only: nothing here names a member.
    liveness_reference = models.JSONField(_("liveness reference"), default=dict, blank=True, editable=False)
    liveness_calibrated_at = models.DateTimeField(_("liveness calibrated at"), null=True, blank=True, editable=False)
    liveness_reset_at = models.DateTimeField(_("liveness reset at"), null=True, blank=True, editable=False)
    liveness_stats = models.JSONField(_("liveness statistics"), default=dict, blank=True, editable=False)
    # Rules per door (issue #24, 4; access.rules.door_refusal, entry_refusal, entry_flag). Every
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
    # Door agents (issue #24): a contact open longer than this is reported `held_open`.
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
    # Liveness (issue #17): the last layer the scan went through ("passive", "challenge"; for a
    # `liveness_failed` event the layer that failed), the passive score, and the challenge's
    # measures. Scores only: no frame is kept beyond the door-photo rules.
    liveness_layer = models.CharField(_("liveness layer"), max_length=16, blank=True, db_index=True)
    liveness_score = models.FloatField(_("liveness score"), null=True, blank=True)
    liveness_detail = models.JSONField(_("liveness detail"), default=dict, blank=True)
    # A door rule that let the member in but wants staff to look (issue #24: "anti_passback"),
    # derived from the events themselves: no new personal data.
    flag = models.CharField(_("flag"), max_length=32, blank=True, db_index=True)
    # When the door's agent reported the relay moved for this grant (issue #24).
    door_opened_at = models.DateTimeField(_("door opened at"), null=True, blank=True)
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


class ReportExport(models.Model):
    """A large access report built in the background (access.reports.build_export). Its file is
    encrypted (justface.private_files), downloadable once by its requester before expires_at,
    then erased; rows past their expiry are erased by the retention job."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being written")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded (file erased)")
        EXPIRED = "expired", _("Expired (file erased)")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="report_exports")
    requested_by = models.ForeignKey(
        "justface.User", verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="report_exports"
    )
    # The report's filters as ids and codes (access.reports.ReportFilters.as_dict): no names.
    filters = models.JSONField(_("filters"), default=dict)
    file_format = models.CharField(_("file format"), max_length=4)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows total"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    file_name = models.CharField(_("file name"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    downloaded_at = models.DateTimeField(_("downloaded at"), null=True, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name_plural = _("access report files")
        ordering = ["-created_at"]
        verbose_name = _("access report file")

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)


class HourlyStat(models.Model):
    """Anonymous counts per centre and hour: no member id, so they outlive every erasure.
    Written in the access event's transaction (access.stats.count_event) and, for hours a
    centre had people inside but no event, by the hourly job (access.stats.sample_hour_starts)."""

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.CASCADE, related_name="hourly_stats")
    hour = models.DateTimeField(_("hour"), help_text=_("Start of the hour (UTC)."))
    check_ins = models.PositiveIntegerField(_("check-ins"), default=0)
    check_outs = models.PositiveIntegerField(_("check-outs"), default=0)
    denied = models.PositiveIntegerField(_("denied"), default=0)
    peak_inside = models.PositiveIntegerField(_("peak inside"), default=0)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name_plural = _("hourly statistics")
        ordering = ["centre", "hour"]
        verbose_name = _("hourly statistic")
        constraints = [models.UniqueConstraint(fields=["centre", "hour"], name="hourly_stat_one_row_per_hour")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.hour:%Y-%m-%d %H}h"


class DoorAgent(models.Model):
    """The program beside a door that drives its lock (issue #24, dooragent/): its credential is
    shown once, only its SHA-256 stored; revocation is immediate. It obeys only commands signed
    with the server's key (access.door_signing), never the tablet."""

    door = models.ForeignKey(Door, verbose_name=_("door"), on_delete=models.CASCADE, related_name="agents")
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("Which box runs it, e.g. 'Pi by the front door'.")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True, editable=False)
    # The last heartbeat's version and driver (no personal data), and when the offline alarm went.
    last_status = models.JSONField(_("last status"), default=dict, blank=True, editable=False)
    offline_reported_at = models.DateTimeField(_("offline reported at"), null=True, blank=True, editable=False)

    tenancy_chain_path = "door__centre__chain"
    tenancy_centre_path = "door__centre"

    class Meta:
        verbose_name = _("door agent")
        verbose_name_plural = _("door agents")

    def __str__(self) -> str:
        return _("Door agent for %(door)s") % {"door": self.door} + (f" ({self.label})" if self.label else "")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DoorCommand(models.Model):
    """A signed open command queued for a door's agent by a granted entry. Handed out once
    (claimed_at set by compare-and-set), useless after not_after."""

    door = models.ForeignKey(Door, verbose_name=_("door"), on_delete=models.CASCADE, related_name="commands")
    event = models.ForeignKey(
        AccessEvent, verbose_name=_("access event"), on_delete=models.CASCADE, related_name="door_commands"
    )
    nonce = models.CharField(_("nonce"), max_length=32, unique=True)
    payload = models.TextField(_("payload"))  # base64url of the canonical JSON, as signed
    kid = models.CharField(_("key id"), max_length=16)
    signature = models.CharField(_("signature"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    not_after = models.DateTimeField(_("not after"), db_index=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        DoorAgent, verbose_name=_("claimed by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    relay_at = models.DateTimeField(_("relay moved at"), null=True, blank=True)

    tenancy_chain_path = "door__centre__chain"
    tenancy_centre_path = "door__centre"

    class Meta:
        verbose_name = _("door command")
        verbose_name_plural = _("door commands")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["door", "not_after"], condition=Q(claimed_at=None), name="door_command_due")]

    def __str__(self) -> str:
        return f"Open {self.door_id} for event {self.event_id}"

    def as_delivered(self) -> dict:
        return {"payload": self.payload, "kid": self.kid, "signature": self.signature}


class DoorEvent(models.Model):
    """What a door did, from its agent's reports (issue #24, docs/door.md). Door-level facts; an
    `opened` or `tailgating_hint` linked to a granted access event is tied to that event's
    member only through the event (anonymised with it at erasure, kept as a door fact)."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened after a grant")
        CLOSED = "closed", _("Closed")
        FORCED_OPEN = "forced_open", _("Forced open")
        HELD_OPEN = "held_open", _("Held open")
        AGENT_OFFLINE = "agent_offline", _("Agent offline")
        AGENT_ONLINE = "agent_online", _("Agent back online")
        TAILGATING_HINT = "tailgating_hint", _("Tailgating hint")

    ALARMS = frozenset({Kind.FORCED_OPEN, Kind.HELD_OPEN, Kind.AGENT_OFFLINE, Kind.TAILGATING_HINT})

    door = models.ForeignKey(Door, verbose_name=_("door"), on_delete=models.CASCADE, related_name="door_events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    access_event = models.ForeignKey(
        AccessEvent,
        verbose_name=_("access event"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="door_events",
    )
    # Open episodes: a contact `open` is one row; `closed_at` set when the contact closes, and
    # `held_reported_at` when the held-open alarm went for it.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    held_reported_at = models.DateTimeField(_("held open reported at"), null=True, blank=True)
    alarm_sent_at = models.DateTimeField(_("alarm sent at"), null=True, blank=True)

    tenancy_chain_path = "door__centre__chain"
    tenancy_centre_path = "door__centre"

    class Meta:
        verbose_name = _("door event")
        verbose_name_plural = _("door events")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.door_id})"

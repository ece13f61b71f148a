"""Door agents (beside the door, they open it), the signed open commands queued for them, and
what the doors report back."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models.doors import Door
from access.models.scans import AccessEvent


class DoorAgent(models.Model):
    """The program beside a door that drives its lock (dooragent/): its credential is
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
    # The last report applied, as `<stream>:<seq>` ids (the agent's queue on disk numbers them):
    # a report resent after a lost answer or a restart is recognised and not applied twice.
    report_stream = models.CharField(_("report stream"), max_length=16, blank=True, editable=False)
    report_seq = models.BigIntegerField(_("last report"), default=0, editable=False)

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
    """What a door did, from its agent's reports (docs/door.md). Door-level facts; an
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

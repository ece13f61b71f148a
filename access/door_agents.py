"""Door agents (docs/door.md "Door agents"): the signed open commands a granted entry
queues for its door's agent, their delivery (long poll, claimed once), and what agents report
(relay moved, contact open/closed, heartbeat) turned into door events and alarms.

Only this module and access.door_signing touch the server's signing key; nothing a tablet's
device token reaches calls into it except the decision path (access.services.decision.decide), which
queues a command for a granted entry at the scan's own door only."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access import door_signing, door_wakeup
from access.models import AccessEvent, DoorAgent, DoorCommand, DoorEvent, Scan
from justface.tenancy import Role

logger = logging.getLogger(__name__)

# A command is valid this long after it is signed (docs/door-agent.md: not_after = issued_at + 5).
COMMAND_LIFETIME = timedelta(seconds=5)
OPEN_MS = 3000
# A contact opening within this long after a grant at the door is that grant's `opened`;
# without one it is `forced_open`.
GRANT_WINDOW = timedelta(seconds=10)
# The long poll: `wait` is 0..MAX_WAIT s; the database is looked at every POLL_EVERY (an entry
# decided in any process wakes the waiting request at once: access.door_wakeup).
MAX_WAIT = 25
DEFAULT_WAIT = 20
POLL_EVERY = 0.1
# One e-mail per door and kind of alarm per this long.
ALARM_EVERY = timedelta(minutes=15)
# A report dated further ahead than this (agent clock) is taken as arriving now.
REPORT_SKEW = timedelta(minutes=10)
REPORT_MAX_AGE = timedelta(days=1)

_wakeup = threading.Condition()


# --- queueing (called from the decision path, inside its transaction) --------------------------


def queue_open(*, event: AccessEvent, scan: Scan) -> DoorCommand | None:
    """Sign an open command for the granted entry's own door, if the door has an active agent."""
    if event.decision != AccessEvent.Decision.GRANTED or scan.status != Scan.Status.GRANTED or event.door_id is None:
        return None
    if event.door_id != scan.door_id or not DoorAgent.objects.filter(door_id=event.door_id, revoked_at=None).exists():
        return None
    try:
        key = door_signing.signing_key()
    except (ImproperlyConfigured, OSError):
        # Fail secure: the grant stands, the door stays shut, and the error is logged loudly.
        logger.exception("Door %s: no signing key, so no open command", event.door_id)
        return None
    issued = timezone.now()
    not_after = issued + COMMAND_LIFETIME
    nonce = secrets.token_hex(16)
    payload = {
        "v": 1,
        "type": "open",
        "door": str(event.door_id),
        "event": event.pk,
        "open_ms": OPEN_MS,
        "issued_at": issued.timestamp(),
        "not_after": not_after.timestamp(),
        "nonce": nonce,
    }
    signed = key.sign(payload)
    command = DoorCommand.objects.create(
        door_id=event.door_id,
        event=event,
        nonce=nonce,
        payload=signed["payload"],
        kid=signed["kid"],
        signature=signed["signature"],
        created_at=issued,
        not_after=not_after,
    )
    transaction.on_commit(_wake_all)  # this process's held polls
    door_wakeup.notify()  # every other process's, at commit (PostgreSQL)
    return command


def _wake_all() -> None:
    with _wakeup:
        _wakeup.notify_all()


# --- delivery --------------------------------------------------------------------------------


def claim_commands(*, agent: DoorAgent) -> list[DoorCommand]:
    """The agent's door's pending, unexpired commands, each claimed by compare-and-set: a
    command is handed to one request only, however many poll at once."""
    now = timezone.now()
    pending = DoorCommand.objects.filter(door_id=agent.door_id, claimed_at=None, not_after__gt=now).order_by("pk")
    claimed = []
    for command in pending[:20]:
        if DoorCommand.objects.filter(pk=command.pk, claimed_at=None).update(claimed_at=now, claimed_by=agent) == 1:
            command.claimed_at, command.claimed_by = now, agent
            claimed.append(command)
    return claimed


def wait_for_commands(*, agent: DoorAgent, wait: float) -> list[DoorCommand]:
    """Claim at once, or hold up to `wait` s until a command for the door is pending. A revoked
    agent (revocation seen between two looks) gets nothing."""
    deadline = timezone.now() + timedelta(seconds=wait)
    if wait <= 0:
        return claim_commands(agent=agent) if DoorAgent.objects.filter(pk=agent.pk, revoked_at=None).exists() else []
    with door_wakeup.held(_wake_all):  # woken at once by a grant in any process (PostgreSQL)
        while True:
            if not DoorAgent.objects.filter(pk=agent.pk, revoked_at=None).exists():
                return []
            found = claim_commands(agent=agent)
            if found or timezone.now() >= deadline:
                return found
            with _wakeup:
                _wakeup.wait(timeout=min(POLL_EVERY, max(0.0, (deadline - timezone.now()).total_seconds())))


# --- reports ---------------------------------------------------------------------------------


def _at(value: float, now: datetime) -> datetime:
    """The agent's time of the report; a report from the future (a wrong clock) counts as now.
    One from the past keeps its time up to a day late: the agent's queue on disk sends what
    happened while the server was unreachable or the agent was down, when it happened (older:
    a clock that is off, taken as now)."""
    at = datetime.fromtimestamp(value, tz=UTC)
    return now if at > now + REPORT_SKEW or at < now - REPORT_MAX_AGE else at


def record_reports(*, agent: DoorAgent, events: list[dict]) -> int:
    """Apply validated reports (access.api.agent: relay, contact, heartbeat) in order. A report
    with an id (`stream`, `seq`: the agent's queue on disk numbers them in order) at or below the
    last one applied from that stream is a resend (its answer was lost, the agent restarted) and
    is skipped; the agent's row lock makes two posts of one agent apply one after the other."""
    now = timezone.now()
    accepted = 0
    with transaction.atomic():
        stream, seq = (
            DoorAgent.objects.select_for_update().filter(pk=agent.pk).values_list("report_stream", "report_seq").get()
        )
        for report in events:
            if "seq" in report:
                if report["stream"] == stream and report["seq"] <= seq:
                    continue  # applied already
                stream, seq = report["stream"], report["seq"]
            at = _at(report["at"], now)
            kind = report["type"]
            if kind == "relay":
                accepted += _relay_moved(agent=agent, nonce=report["nonce"], event_id=report["event"], at=at)
            elif kind == "contact":
                _contact(agent=agent, is_open=report["state"] == "open", at=at)
                accepted += 1
            else:
                _heartbeat(agent=agent, report=report, at=now)
                accepted += 1
        DoorAgent.objects.filter(pk=agent.pk).update(report_stream=stream, report_seq=seq)
    return accepted


def _relay_moved(*, agent: DoorAgent, nonce: str, event_id: int, at: datetime) -> int:
    """Only a command this agent claimed, for its door: another door's nonce changes nothing."""
    command = DoorCommand.objects.filter(
        nonce=nonce, event_id=event_id, door_id=agent.door_id, claimed_by=agent, relay_at=None
    ).first()
    if command is None:
        return 0
    DoorCommand.objects.filter(pk=command.pk).update(relay_at=at)
    AccessEvent.objects.filter(pk=event_id, door_opened_at=None).update(door_opened_at=at)
    return 1


def _contact(*, agent: DoorAgent, is_open: bool, at: datetime) -> None:
    door = agent.door
    episode = (
        DoorEvent.objects.select_for_update()
        .filter(door=door, kind__in=[DoorEvent.Kind.OPENED, DoorEvent.Kind.FORCED_OPEN], closed_at=None)
        .order_by("-at")
        .first()
    )
    if not is_open:
        if episode is not None:
            DoorEvent.objects.filter(pk=episode.pk).update(closed_at=at)
            _crowd_while_open(episode, closed_at=at)
        return
    if episode is not None:
        return  # still open: a repeated report
    recent = AccessEvent.objects.filter(door=door, at__gte=at - GRANT_WINDOW, at__lte=at + timedelta(seconds=2))
    grants = recent.filter(decision=AccessEvent.Decision.GRANTED).order_by("-at")
    grant = grants.exclude(door_events__kind=DoorEvent.Kind.OPENED).first()
    if grant is not None:
        DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.OPENED, at=at, access_event=grant)
        if recent.filter(CROWD).exists():
            # The tablet saw more than one face with this grant, or just before it opened the door.
            _alarm(DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.TAILGATING_HINT, at=at, access_event=grant))
        return
    used = grants.first()
    if used is not None:
        # A second opening for one grant (the contact counted two entries): a hint, not a forced door.
        _alarm(DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.TAILGATING_HINT, at=at, access_event=used))
        DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.OPENED, at=at, access_event=used)
        return
    _alarm(DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.FORCED_OPEN, at=at))


# An access event whose frame showed more than one face: the server's detector or the tablet's
# count (AccessEvent.faces, smaller faces further back included), or a frame refused for two people.
CROWD = Q(faces__gt=1) | Q(reason="multiple_faces")


def _crowd_while_open(episode: DoorEvent, *, closed_at: datetime) -> None:
    """One grant opened the door, and while it stood open the tablet saw more than one face (a
    scan during the opening): a tailgating hint, unless the opening had one already."""
    if episode.kind != DoorEvent.Kind.OPENED or episode.access_event_id is None:
        return
    if DoorEvent.objects.filter(
        door_id=episode.door_id, kind=DoorEvent.Kind.TAILGATING_HINT, access_event_id=episode.access_event_id
    ).exists():
        return
    during = AccessEvent.objects.filter(door_id=episode.door_id, at__gt=episode.at, at__lte=closed_at)
    if during.filter(CROWD).exists():
        _alarm(
            DoorEvent.objects.create(
                door_id=episode.door_id,
                kind=DoorEvent.Kind.TAILGATING_HINT,
                at=closed_at,
                access_event_id=episode.access_event_id,
            )
        )


def _heartbeat(*, agent: DoorAgent, report: dict, at: datetime) -> None:
    status = {"version": report.get("version", ""), "driver": report.get("driver", "")}
    was_offline = agent.offline_reported_at is not None
    DoorAgent.objects.filter(pk=agent.pk).update(last_seen_at=at, last_status=status, offline_reported_at=None)
    agent.last_seen_at, agent.last_status, agent.offline_reported_at = at, status, None
    if was_offline:
        DoorEvent.objects.create(door=agent.door, kind=DoorEvent.Kind.AGENT_ONLINE, at=at)


def touch_agent(agent: DoorAgent, *, at: datetime) -> None:
    if agent.last_seen_at is None or at - agent.last_seen_at >= timedelta(seconds=10):
        DoorAgent.objects.filter(pk=agent.pk).update(last_seen_at=at)
        agent.last_seen_at = at


# --- the periodic sweep (django-q, every minute: access.door_agents.sweep) ---------------------


def sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Doors held open past their limit, and agents silent past the offline limit."""
    now = at or timezone.now()
    held = 0
    with transaction.atomic():
        episodes = (
            DoorEvent.objects.select_for_update()
            .select_related("door")
            .filter(kind__in=[DoorEvent.Kind.OPENED, DoorEvent.Kind.FORCED_OPEN], closed_at=None, held_reported_at=None)
        )
        for episode in episodes:
            if now - episode.at >= timedelta(seconds=episode.door.held_open_limit):
                DoorEvent.objects.filter(pk=episode.pk).update(held_reported_at=now)
                _alarm(DoorEvent.objects.create(door=episode.door, kind=DoorEvent.Kind.HELD_OPEN, at=now))
                held += 1
        limit = now - timedelta(seconds=settings.JUSTFACE_DOOR_AGENT_OFFLINE_SECONDS)
        silent = (
            DoorAgent.objects.select_for_update()
            .select_related("door")
            .filter(revoked_at=None, offline_reported_at=None)
            .filter(Q(last_seen_at__lt=limit) | Q(last_seen_at=None, created_at__lt=limit))
        )
        offline = 0
        for agent in silent:
            DoorAgent.objects.filter(pk=agent.pk).update(offline_reported_at=now)
            _alarm(DoorEvent.objects.create(door=agent.door, kind=DoorEvent.Kind.AGENT_OFFLINE, at=now))
            offline += 1
    return {"held_open": held, "agent_offline": offline}


def _alarm(event: DoorEvent) -> None:
    """E-mail the centre's chain managers, at most once per door and kind per ALARM_EVERY."""
    recent = DoorEvent.objects.filter(
        door_id=event.door_id, kind=event.kind, alarm_sent_at__gte=event.at - ALARM_EVERY
    ).exists()
    if recent:
        return
    from members.models import StaffRole

    door = event.door
    managers = StaffRole.objects.filter(chain_id=door.centre.chain_id, role=Role.MANAGER, user__is_active=True)
    to = sorted({r.user.email for r in managers.select_related("user") if r.user.email})
    DoorEvent.objects.filter(pk=event.pk).update(alarm_sent_at=event.at)
    if not to:
        return
    with translation.override(door.centre.chain.default_language):
        subject = _("Door alarm: %(kind)s at %(door)s") % {"kind": event.get_kind_display(), "door": door}
        body = _("%(kind)s at %(door)s, %(when)s (UTC). See the door status page in the staff desk.") % {
            "kind": event.get_kind_display(),
            "door": door,
            "when": f"{event.at:%Y-%m-%d %H:%M:%S}",
        }
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=True))


def purge_door_events(*, at: datetime) -> int:
    """Door events are door records (a few, tied through their access event to a member, are
    personal data while that event names one): kept JUSTFACE_DOOR_EVENT_DAYS, then deleted."""
    before = at - timedelta(days=settings.JUSTFACE_DOOR_EVENT_DAYS)
    return DoorEvent.objects.filter(at__lt=before).delete()[1].get("access.DoorEvent", 0)


def purge_commands(*, before: datetime) -> int:
    """Open commands are working data: each is useless 5 s after it is made (retention.jobs.purge_due)."""
    return DoorCommand.objects.filter(created_at__lt=before).delete()[1].get("access.DoorCommand", 0)

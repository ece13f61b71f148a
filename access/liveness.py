"""Liveness at the door: the centre's policy, the head-turn challenge (issued, bound to the
device, single use, short-lived) and what the access event records. The checks themselves are the
face library's (justface/face/liveness.py); the door decision calls in here before it identifies
anyone (access.services.challenges.liveness_step).

Policy per centre (``Centre.liveness``):

* ``off``: no check at all.
* ``passive``: every check-in frame must pass the passive check.
* ``challenge_always``: the passive check, then the head-turn challenge on every check-in.
* ``challenge_in_doubt`` (default): the passive check; the challenge unless the frame is
  *clearly live for this door's camera* (both passive cues above the door's live reference,
  ``door_reference``), for a random share of entries (``Centre.liveness_challenge_percent``),
  or when the member's enrollment photo was not clearly live
  (access.services.challenges.enrollment_liveness_step). No attack walks in unchallenged
  because its score is high on another camera's scale: a new door starts from a conservative
  default (most members are challenged) and learns its camera from its own entries granted
  after passing the challenge (``recalibrate``; reset in the admin).

Leaving (direction ``out``) is never refused and never challenged; its frame gets the passive
check (any policy but ``off``) only to decide whether the check-out may name the member and close
their visit (access.services.faces).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from access.models import AccessEvent, Challenge, Door, Scan
from justface import metrics
from justface.face import liveness as lib
from members.models import Centre, FaceTemplate, Liveness, Member

CHALLENGE_TTL = timedelta(seconds=20)  # to read the instruction, turn, and send the burst
BURST_FRAMES = 10  # the kiosk sends this many frames...
BURST_INTERVAL_MS = 150  # ...this far apart (1.35 s of turning; a turn spans several frames)
BURST_MAX_BYTES = 8 * 1024 * 1024  # the whole multipart burst
# The server's own clock (no client-sent time is trusted): a burst cannot arrive sooner after its
# challenge was issued than the frames take to capture (the kiosk waits 400 ms to let the member
# read, then (BURST_FRAMES - 1) intervals). An answer sooner than this was not taken by the kiosk
# from a live camera. It only bounds the burst from below: an attacker can wait.
MIN_ANSWER_DELAY = timedelta(milliseconds=(BURST_FRAMES - 1) * BURST_INTERVAL_MS)

INSTRUCTION_TEXTS = {
    lib.LEFT: _("Turn your head a little to your left"),
    lib.RIGHT: _("Turn your head a little to your right"),
}


def passive_threshold() -> float:
    value = getattr(settings, "FACE_LIVENESS_THRESHOLD", None)
    return lib.THRESHOLD if value is None else value


def doubt_below() -> float:
    value = getattr(settings, "FACE_LIVENESS_DOUBT", None)
    return lib.DOUBT_BELOW if value is None else value


@dataclass(frozen=True)
class LivenessCheck:
    """What the liveness step of one scan measured, for its access event. Immutable: each step
    returns a new one (dataclasses.replace)."""

    mode: str = Liveness.OFF
    passive: float | None = None  # p_real of the frame
    layer: str = ""  # the last layer run: "passive" or "challenge" ("" none)
    trigger: str = ""  # why a challenge was asked: always, doubt, random, enrollment
    challenge: dict = field(default_factory=dict)  # the burst's measures (BurstResult.as_record)
    challenge_passed: bool = False
    cues: lib.Cues | None = None  # both passive cues of the frame (what "clearly live" looks at)
    reference: lib.LiveReference | None = None  # the door's reference the frame was held against

    @property
    def active(self) -> bool:
        return self.mode != Liveness.OFF

    @property
    def threshold(self) -> float | None:
        """The passive threshold the engine applies to the frame (None: no passive check)."""
        return passive_threshold() if self.active else None

    def record(self) -> dict:
        """Fields of the access event (no photo, no template: scores and measures only)."""
        if not self.active:
            return {}
        detail = {"mode": self.mode}
        if self.trigger:
            detail["trigger"] = self.trigger
        if self.challenge:
            detail["challenge"] = self.challenge
        if self.cues is not None:
            detail["cues"] = self.cues.as_record()
        if self.reference is not None:
            detail["reference"] = self.reference.as_record()
        return {"liveness_layer": self.layer, "liveness_score": self.passive, "liveness_detail": detail}


def check_for(scan: Scan) -> LivenessCheck:
    """The centre's policy for this scan: scans by face, both ways (leaving: passive only)."""
    if scan.method != "face":
        return LivenessCheck()
    return LivenessCheck(mode=scan.centre.liveness)


def challenge_trigger(
    centre: Centre,
    passive: float | None,
    *,
    cues: lib.Cues | None = None,
    reference: lib.LiveReference | None = None,
) -> str:
    """Why this entry gets the challenge ("" none). With ``cues``, a frame not clearly live for
    ``reference`` (the door's) is in doubt; without, the fixed grey band of the passive score.
    (A member whose enrollment photo is in doubt is challenged later, once identified:
    access.services.challenges.enrollment_liveness_step.)"""
    if centre.liveness == Liveness.CHALLENGE_ALWAYS:
        return "always"
    if centre.liveness != Liveness.CHALLENGE_IN_DOUBT:
        return ""
    if cues is not None:
        if not (reference or lib.DEFAULT_REFERENCE).clearly_live(cues):
            return "doubt"
    elif passive is not None and passive < doubt_below():
        return "doubt"
    if centre.liveness_challenge_percent and secrets.randbelow(100) < centre.liveness_challenge_percent:
        return "random"
    return ""


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def issue_challenge(*, scan: Scan, check: LivenessCheck) -> tuple[Challenge, str]:
    """A new challenge for a scan that is waiting (status ``challenge``): a random instruction, a
    nonce (returned once, only its hash stored), bound to the scan's device, expiring soon."""
    nonce = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        challenge = Challenge.objects.create(
            scan=scan,
            device_id=scan.device_id,
            instruction=secrets.choice(lib.INSTRUCTIONS),
            nonce_hash=_hash(nonce),
            trigger=check.trigger,
            passive_score=check.passive,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
        Scan.objects.filter(pk=scan.pk, status=Scan.Status.PENDING).update(status=Scan.Status.CHALLENGE)
        scan.status = Scan.Status.CHALLENGE
    scan.issued_nonce = nonce  # for this answer only; never stored
    metrics.challenge_issued(scan=scan)
    return challenge, nonce


class ChallengeRefused(Exception):
    """The answer cannot be taken: wrong nonce (403), already answered (409)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def claim_challenge(*, scan: Scan, nonce: str) -> Challenge | None:
    """Take the scan's challenge for its one answer (compare-and-set: single use, whatever
    races). None when it has expired (the scan is then decided liveness_failed by the caller).
    The scan must already be this device's (the API looks it up by device)."""
    challenge = Challenge.objects.filter(scan=scan).first()
    if challenge is None or scan.status not in (Scan.Status.CHALLENGE, Scan.Status.PENDING):
        raise ChallengeRefused(409, "This scan has no open challenge (it was answered or has expired).")
    if challenge.device_id != scan.device_id:
        raise ChallengeRefused(403, "This challenge belongs to another door tablet.")
    if not hmac.compare_digest(challenge.nonce_hash, _hash(nonce)):
        raise ChallengeRefused(403, "Wrong challenge nonce.")
    now = timezone.now()
    if challenge.used_at is not None:
        raise ChallengeRefused(409, "This challenge was already answered.")
    if challenge.expires_at <= now:
        return None
    if Challenge.objects.filter(pk=challenge.pk, used_at=None).update(used_at=now) != 1:
        raise ChallengeRefused(409, "This challenge was already answered.")
    challenge.used_at = now
    return challenge


def reopen_for_decision(scan: Scan) -> bool:
    """CHALLENGE -> PENDING (compare-and-set), so that the usual decision can record it."""
    if Scan.objects.filter(pk=scan.pk, status=Scan.Status.CHALLENGE).update(status=Scan.Status.PENDING) != 1:
        return False
    scan.status = Scan.Status.PENDING
    return True


def instruction_message(*, instruction: str, language: str) -> str:
    with translation.override(language):
        return str(INSTRUCTION_TEXTS[instruction])


def check_from_challenge(challenge: Challenge, centre: Centre) -> LivenessCheck:
    return LivenessCheck(
        mode=centre.liveness, passive=challenge.passive_score, layer="challenge", trigger=challenge.trigger
    )


# --- per-door calibration ------------------------------------------------------------

CALIBRATION = lib.CalibrationRules()
HISTOGRAM_EDGES = (0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0)  # p_real bins of the staff page


def clearly_live(check: LivenessCheck) -> bool:
    """Whether the checked frame is clearly live for the door's camera (what lets an entry in
    with no challenge, and names a member on the way out): its cues against the reference it
    was held against (the door's, ``door_reference``); a frame without cues against the fixed
    grey band."""
    if check.cues is not None:
        return (check.reference or CALIBRATION.default).clearly_live(check.cues)
    return check.passive is not None and check.passive >= doubt_below()


def door_reference(door: Door | None) -> lib.LiveReference:
    """The door's live reference: what it has learned, else the conservative default."""
    if door is None:
        return CALIBRATION.default
    return lib.LiveReference.from_record(door.liveness_reference) or CALIBRATION.default


def _window(door: Door) -> list[tuple[lib.Cues, bool]]:
    """The door's most recent granted face check-ins with measured cues (since its last reset),
    newest first, each member at most ``member_share`` times: (cues, passed the challenge)."""
    events = AccessEvent.objects.filter(
        door=door,
        decision=AccessEvent.Decision.GRANTED,
        direction=AccessEvent.Direction.IN,
        member__isnull=False,
        liveness_layer__in=("passive", "challenge"),
    )
    if door.liveness_reset_at is not None:
        events = events.filter(at__gt=door.liveness_reset_at)
    out: list[tuple[lib.Cues, bool]] = []
    per_member: dict[int, int] = {}
    rows = events.order_by("-at", "-pk").values_list("member_id", "liveness_layer", "liveness_detail")
    for member_id, layer, detail in rows[: CALIBRATION.window * 4].iterator():
        cues = lib.Cues.from_record((detail or {}).get("cues") or {})
        if cues is None or per_member.get(member_id, 0) >= CALIBRATION.member_share:
            continue
        per_member[member_id] = per_member.get(member_id, 0) + 1
        out.append((cues, layer == "challenge"))
        if len(out) >= CALIBRATION.window:
            break
    return out


def recalibrate(door: Door, *, at=None) -> lib.LiveReference:
    """One slow step of the door's reference towards its camera (liveness.calibrate), from its
    recent granted face entries: only the frames of entries that passed the challenge count as
    live samples (the unchallenged ones only as a count), each member a bounded share, each cut
    at most one step a time, never below the floor. Stores the cuts and door-level statistics."""
    at = at or timezone.now()
    with transaction.atomic():
        # One recalibration of a door at a time: two at once would take two steps from one state.
        locked = Door.objects.select_for_update().get(pk=door.pk)
        new = _recalibrate_locked(locked, at)
    for name in ("liveness_reference", "liveness_calibrated_at", "liveness_stats"):
        setattr(door, name, getattr(locked, name))
    return new


def _recalibrate_locked(door: Door, at) -> lib.LiveReference:
    window = _window(door)
    current = door_reference(door)
    passed = [cues for cues, challenged in window if challenged]
    new = lib.calibrate(current, passed, len(window), CALIBRATION)
    counts = [0] * (len(HISTOGRAM_EDGES) - 1)
    for cues, _challenged in window:
        i = next(
            (k for k in range(len(counts)) if cues.p_real < HISTOGRAM_EDGES[k + 1]),
            len(counts) - 1,
        )
        counts[i] += 1
    stats = {"entries": len(window), "challenge_passed": len(passed), "histogram": counts}
    fields = {"liveness_stats": stats}
    if new != current or door.liveness_reference:
        fields.update(liveness_reference=new.as_record(), liveness_calibrated_at=at)
    Door.objects.filter(pk=door.pk).update(**fields)
    for name, value in fields.items():
        setattr(door, name, value)
    return new


def reset_calibration(door: Door, *, at=None) -> None:
    """Back to the conservative default; entries before now are never learned from again."""
    at = at or timezone.now()
    fields = {"liveness_reference": {}, "liveness_calibrated_at": None, "liveness_reset_at": at, "liveness_stats": {}}
    Door.objects.filter(pk=door.pk).update(**fields)
    for name, value in fields.items():
        setattr(door, name, value)


def challenge_rate(door: Door, *, since) -> dict:
    """Of the door's face check-ins since ``since`` that went through the passive check: how many
    were challenged (any trigger) and how many walked in unchallenged."""
    events = AccessEvent.objects.filter(
        door=door, direction=AccessEvent.Direction.IN, at__gte=since, liveness_layer__in=("passive", "challenge")
    )
    total = events.count()
    challenged = events.filter(liveness_layer="challenge").count()
    return {"total": total, "challenged": challenged, "rate": challenged / total if total else None}


# --- enrollment photos ----------------------------------------------------------------


def enrollment_in_doubt(member: Member) -> bool:
    """Whether one of the member's templates comes from a photo that was not clearly live at
    enrollment and no live entry has confirmed it since (FaceTemplate.enrolled_live)."""
    return FaceTemplate.objects.filter(member=member, enrolled_live=False).exists()


def confirm_enrollment(member: Member) -> int:
    """The member passed the head-turn challenge and was recognised: a live person with this
    face stood at the door, so their templates no longer ask for it."""
    return FaceTemplate.objects.filter(member=member, enrolled_live=False).update(enrolled_live=True)

"""Liveness at the door (issue #17): the centre's policy, the head-turn challenge (issued, bound
to the device, single use, short-lived) and what the access event records. The checks themselves
are the face library's (justface/face/liveness.py); the door decision calls in here before it
identifies anyone (access.services._liveness_step).

Policy per centre (``Centre.liveness``):

* ``off``: as before issue #17, no check at all.
* ``passive``: every check-in frame must pass the passive check.
* ``challenge_always``: the passive check, then the head-turn challenge on every check-in.
* ``challenge_in_doubt`` (default): the passive check; the challenge when the passive score is
  in the grey band (threshold to FACE_LIVENESS_DOUBT), for a random share of entries
  (``Centre.liveness_challenge_percent``), or when a later step asks (``extra_doubt``: the hook
  for issue #9's grey zone).

Leaving (direction ``out``) is never refused, so it is never checked either.
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

from access.models import Challenge, Scan
from justface.face import liveness as lib
from members.models import Centre, Liveness

CHALLENGE_TTL = timedelta(seconds=20)  # to read the instruction, turn, and send the burst
BURST_FRAMES = 10  # the kiosk sends this many frames...
BURST_INTERVAL_MS = 150  # ...this far apart (1.35 s of turning; a turn spans several frames: issue #21)
BURST_MAX_BYTES = 8 * 1024 * 1024  # the whole multipart burst
# The server's own clock (no client-sent time is trusted): a burst cannot arrive sooner after its
# challenge was issued than the frames take to capture (the kiosk waits 400 ms to let the member
# read, then (BURST_FRAMES - 1) intervals). An answer sooner than this was not taken by the kiosk
# from a live camera (issue #21). It only bounds the burst from below: an attacker can wait.
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


@dataclass
class LivenessCheck:
    """What the liveness step of one scan did, for its access event (filled as it goes)."""

    mode: str = Liveness.OFF
    passive: float | None = None  # p_real of the frame
    layer: str = ""  # the last layer run: "passive" or "challenge" ("" none)
    trigger: str = ""  # why a challenge was asked: always, doubt, random, extra
    challenge: dict = field(default_factory=dict)  # the burst's measures (BurstResult.as_record)
    challenge_passed: bool = False

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
        return {"liveness_layer": self.layer, "liveness_score": self.passive, "liveness_detail": detail}


def check_for(scan: Scan) -> LivenessCheck:
    """The centre's policy for this scan: check-ins by face only."""
    if scan.method != "face" or scan.direction != "in":
        return LivenessCheck()
    return LivenessCheck(mode=scan.centre.liveness)


def challenge_trigger(centre: Centre, passive: float | None, *, extra_doubt: bool = False) -> str:
    """Why this entry gets the challenge ("" none). ``extra_doubt``: a later step of the door
    decision is in doubt (the hook for issue #9's grey zone)."""
    if centre.liveness == Liveness.CHALLENGE_ALWAYS:
        return "always"
    if centre.liveness != Liveness.CHALLENGE_IN_DOUBT:
        return ""
    if passive is not None and passive < doubt_below():
        return "doubt"
    if extra_doubt:
        return "extra"
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

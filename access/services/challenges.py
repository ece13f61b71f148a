"""The liveness step of a face decision, before anyone is identified (the centre's policy:
access.liveness): it refuses a frame that is not live, parks the scan behind the head-turn
challenge, or lets the decision go on; and what happens to a challenge nobody answers. Each
step returns what it measured (a new LivenessCheck) with its outcome; nothing is filled in
along the way."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from django.utils import timezone

from access import liveness as door_liveness
from access.messages import Reason
from access.models import Challenge, Scan
from access.services.decision import decide
from access.services.verdicts import FEATURE_CHALLENGE, ChallengeIssued, Verdict, reloaded
from justface.face.engine import DoorResult
from justface.face.engine import Reason as FaceReason
from members.models import Liveness

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LivenessStep:
    check: door_liveness.LivenessCheck  # what the step measured, for the access event
    # A Verdict refuses, ChallengeIssued parks the scan, None lets the decision go on.
    outcome: Verdict | ChallengeIssued | None = None


def _challenge(scan: Scan, check: door_liveness.LivenessCheck) -> ChallengeIssued:
    challenge, _nonce = door_liveness.issue_challenge(scan=scan, check=check)
    return ChallengeIssued(challenge)


def liveness_step(scan: Scan, result: DoorResult, check: door_liveness.LivenessCheck) -> LivenessStep:
    """The centre's liveness policy on a check-in frame the engine has analysed: refused
    (``liveness_failed``, or ``use_pin`` where the tablet cannot show a challenge), a challenge
    issued, or no outcome (identification and the rest go on)."""
    if not check.active:
        return LivenessStep(check)
    check = replace(
        check,
        passive=result.liveness if result.liveness is not None else check.passive,
        cues=result.cues if result.cues is not None else check.cues,
    )
    if result.reason == FaceReason.NOT_LIVE:
        return LivenessStep(replace(check, layer="passive"), Verdict(Reason.LIVENESS_FAILED))
    if not result.ok or check.challenge_passed:
        return LivenessStep(check)  # no face, two faces, poor quality: the usual answers
    reference = door_liveness.door_reference(scan.door)  # clearly live for THIS door's camera
    trigger = door_liveness.challenge_trigger(scan.centre, check.passive, cues=check.cues, reference=reference)
    check = replace(check, layer="passive", reference=reference, trigger=trigger)
    if not trigger:
        return LivenessStep(check)
    if FEATURE_CHALLENGE not in scan.supports:
        # A tablet that cannot show a challenge gets a final refusal offering the PIN pad,
        # never a way around the challenge: nobody is identified from this frame.
        return LivenessStep(replace(check, challenge={"why": "not_supported"}), Verdict(Reason.USE_PIN))
    return LivenessStep(check, _challenge(scan, check))


def enrollment_liveness_step(scan: Scan, verdict: Verdict, check: door_liveness.LivenessCheck) -> LivenessStep:
    """A member whose enrollment photo was not clearly live (a print of someone else is the
    other half of the attack) gets the challenge before the door opens, until one entry has
    passed it. Only where the centre's policy has the challenge."""
    if not verdict.granted or check.challenge_passed or check.mode != Liveness.CHALLENGE_IN_DOUBT:
        return LivenessStep(check)
    if not door_liveness.enrollment_in_doubt(verdict.member):
        return LivenessStep(check)
    check = replace(check, trigger="enrollment")
    return LivenessStep(check, _challenge(scan, check))


def learn_door_camera(scan: Scan) -> None:
    """A member let in after passing the challenge: the door learns its camera a little
    (access.liveness.recalibrate). Never in the way of the entry itself."""
    try:
        door_liveness.recalibrate(scan.door)
    except Exception:
        logger.exception("Liveness recalibration failed for door %s", scan.door_id)


def expire_challenge(scan: Scan) -> Scan:
    """A challenge nobody answered in time: the scan is decided `liveness_failed` (layer
    challenge), so it ends with one access event like every scan."""
    challenge = Challenge.objects.filter(scan=scan).first()
    if not door_liveness.reopen_for_decision(scan):
        return reloaded(scan)
    check = door_liveness.check_from_challenge(challenge, scan.centre) if challenge else door_liveness.LivenessCheck()
    return decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=replace(check, challenge={"why": "unanswered"}))


def expire_stale_challenges(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    stale = Scan.objects.select_related("centre__chain").filter(
        status=Scan.Status.CHALLENGE, challenge__expires_at__lte=at
    )
    return sum(1 for scan in stale if expire_challenge(scan).reason == Reason.LIVENESS_FAILED)

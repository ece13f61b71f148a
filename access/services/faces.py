"""Face scans: the door rules, the engine's analysis of a frame or a burst, the liveness step,
identification among the chain's members (and, while members move between models, the previous
model), the grey zone that asks the proposed member's PIN, leaving by face, and the answer to a
head-turn challenge. Every path ends in `decision.decide`, or parks the scan (challenge, PIN)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from access import liveness as door_liveness
from access import rules
from access.frames import Frame
from access.messages import Reason
from access.models import Scan
from access.services.challenges import enrollment_liveness_step, expire_challenge, learn_door_camera, liveness_step
from access.services.decision import decide, entry_refusal
from access.services.verdicts import CONFIRM_WINDOW, FEATURE_CONFIRM, ChallengeIssued, Verdict, reloaded
from consent.selectors import biometric_consent_active, biometric_reconsent_pending
from justface import metrics, private_files
from justface.face.engine import DoorResult
from justface.face.engine import Reason as FaceReason
from justface.face.liveness import check_burst
from justface.face_runtime import engine_turn, get_engine
from members.faces import store_face_template
from members.gallery import Identification, identify, previous_gallery_for
from members.models import Centre, Member
from members.selectors import face_entry_paused

logger = logging.getLogger(__name__)

# One frame analysed at a time per process (face_runtime.engine_slot): the engine already spreads
# one analysis over FACE_TORCH_THREADS cores, whichever backend runs it, and two at once only
# fight for them (docs/door.md). Scale with processes; a frame that cannot get the engine within
# ENGINE_WAIT_SECONDS is answered `unavailable`.
_ENGINE_REASONS = {"no_face": Reason.NO_FACE, "multiple_faces": Reason.MULTIPLE_FACES}

Outcome = Verdict | ChallengeIssued


def decide_face_scan(
    *, scan: Scan, frame: Frame, burst: Sequence[Frame] = (), liveness: door_liveness.LivenessCheck | None = None
) -> Scan:
    """Decide a face scan from one frame, or a burst of frames of the same visit (fused into one
    template: FaceEngine.analyse_door_burst), under the centre's liveness policy. The frame kept
    as door photo is the one whose face was found first."""
    check = liveness or door_liveness.check_for(scan)
    frames = [frame, *burst]
    try:
        outcome, shown, check = _face_outcome(scan, frames, check)
    except Exception:
        # Never the frame or a template in a log line: the scan id is enough to find the case.
        logger.exception("Face decision failed for scan %s", scan.pk)
        outcome, shown = Verdict(Reason.UNAVAILABLE), frame
    if isinstance(outcome, ChallengeIssued):
        return scan  # status `challenge`: decided when the burst comes, or when the challenge expires
    verdict = outcome
    if verdict.reason is Reason.CONFIRM_PIN:
        if FEATURE_CONFIRM in scan.supports:
            return _await_pin(scan, verdict, frame=shown.data)
        # A tablet that cannot ask for the PIN alone gets a final answer: the PIN pad. The
        # proposed member is not named, not even in the event (nobody confirmed them).
        verdict = Verdict(Reason.USE_PIN, score=verdict.score, margin=verdict.margin)
    return decide(scan, verdict, frame=shown.data, liveness=check)


def _await_pin(scan: Scan, verdict: Verdict, *, frame: bytes) -> Scan:
    """Park a grey-zone scan until the proposed member's PIN comes (pins.confirm_scan) or the
    window passes (expiry.expire_scan_if_stale). The frame is kept, encrypted, only where the
    chain keeps door photos, and at most for the window unless the PIN grants entry."""
    now = timezone.now()
    keep = bool(scan.centre.chain.policy.door_photo_max_hours)
    photo = private_files.save("door_photo", frame) if keep else ""
    fields = {
        "status": Scan.Status.CONFIRM,
        "reason": verdict.reason.value,
        "member": verdict.member,
        "member_number_hash": verdict.member.member_number_hash,
        "score": verdict.score,
        "margin": verdict.margin,
        "frame_file": photo,
        "frame_expires_at": now + CONFIRM_WINDOW if keep else None,
        "faces": scan.faces,
    }
    if Scan.objects.filter(pk=scan.pk, status=Scan.Status.PENDING).update(**fields) != 1:
        private_files.delete(photo)
        return reloaded(scan)
    for name, value in fields.items():
        setattr(scan, name, value)
    return scan


def _face_outcome(
    scan: Scan, frames: list[Frame], check: door_liveness.LivenessCheck
) -> tuple[Outcome, Frame, door_liveness.LivenessCheck]:
    """The outcome, the frame that showed the face (the first frame when none did), and what the
    liveness step measured."""
    centre, now = scan.centre, timezone.now()
    if refused := rules.door_refusal(scan.door, centre, scan.direction, now):
        return Verdict(refused), frames[0], check  # no face is analysed while the door is closed to all
    with engine_turn() as held:
        if not held:
            return Verdict(Reason.UNAVAILABLE), frames[0], check
        engine = get_engine()
        with metrics.timed("frame_analysis"):
            result = (
                engine.analyse_door_frame(frames[0].image, liveness_threshold=check.threshold)
                if len(frames) == 1
                else engine.analyse_door_burst([f.image for f in frames], liveness_threshold=check.threshold)
            )
    frame = frames[result.frame]
    scan.faces = max(scan.faces or 0, result.faces)  # the server's count or the tablet's: the most
    if scan.direction == "out":
        verdict, check = _check_out_verdict(scan, frame, result, check, now)
        return verdict, frame, check
    step = liveness_step(scan, result, check)
    if step.outcome is not None:
        return step.outcome, frame, step.check
    if not result.ok:
        return Verdict(_ENGINE_REASONS.get(str(result.reason), Reason.POOR_QUALITY)), frame, step.check
    verdict = _identified_verdict(scan, frame, result, now)
    step = enrollment_liveness_step(scan, verdict, step.check)
    return (verdict if step.outcome is None else step.outcome), frame, step.check


def _identified_verdict(scan: Scan, frame: Frame, result: DoorResult, now: datetime) -> Verdict:
    centre = scan.centre
    found = identify(chain_id=centre.chain_id, template=result.template)
    previous = None if found.accepted else _identify_by_previous_model(centre.chain_id, frame, result)
    found = previous or found
    if found.confirm:
        return _confirm_verdict(centre, found)
    if not found.accepted:
        return Verdict(Reason.NOT_RECOGNISED, score=found.score, margin=found.margin)
    # The chain filter is a second lock on the door: another chain's member can never pass.
    member = Member.objects.get(pk=found.member_id, chain_id=centre.chain_id)
    member.chain = centre.chain  # loaded with the device: no second join
    if not biometric_consent_active(member):
        # Without consent the face may not identify anyone: the event names no member. A new
        # version awaiting their signature is said plainly (the PIN works).
        reason = Reason.RECONSENT_NEEDED if biometric_reconsent_pending(member) else Reason.NO_CONSENT
        return Verdict(reason, score=found.score, margin=found.margin)
    if face_entry_paused(member):
        # A restriction (Art. 18): the face may not let them in, nor name them; the PIN works.
        return Verdict(Reason.FACE_PAUSED, score=found.score, margin=found.margin)
    verdict = Verdict(entry_refusal(member, scan, now) or Reason.OK, member, found.score, found.margin)
    if previous and verdict.granted and get_engine().fit_for_enrollment(result):
        # Consent covers templates, whatever the model: this member moves to the active model
        # with this frame, and the previous model stops being asked about them.
        store_face_template(
            member=member,
            template=result.template,
            model_name=get_engine().model,
            photo=None,
            actor=None,
            reason=f"door frame, recognised by {settings.FACE_MODEL_PREVIOUS}",
        )
    return verdict


def _check_out_verdict(
    scan: Scan, frame: Frame, result: DoorResult, check: door_liveness.LivenessCheck, now: datetime
) -> tuple[Verdict, door_liveness.LivenessCheck]:
    """Leaving by face: a photo held up with *I am leaving* must neither name anyone, nor close
    their visit, nor reveal any status. So a check-out names the member and closes the visit
    only when the centre's passive liveness check ran and the frame is clearly live for the
    door's camera, as an entry that needs no challenge (none is asked on the way out). Everything
    else, whoever it is (not live, in doubt, liveness off, not recognised, grey zone, no consent,
    re-consent pending, face entry paused), gets one neutral goodbye (`goodbye`) that names no one
    and changes nothing."""
    if check.active and result.liveness is not None:
        cues = result.cues if result.cues is not None else check.cues
        check = replace(check, passive=result.liveness, layer="passive", cues=cues)
    if result.reason == FaceReason.NOT_LIVE:
        return Verdict(Reason.GOODBYE), check
    if not result.ok:
        # No face, two faces, poor quality: the same for everyone (the kiosk learns an empty door).
        return Verdict(_ENGINE_REASONS.get(str(result.reason), Reason.POOR_QUALITY)), check
    if not check.active or check.passive is None:
        return Verdict(Reason.GOODBYE), check  # no face is compared with any member
    if check.cues is not None:
        check = replace(check, reference=door_liveness.door_reference(scan.door))
    if not door_liveness.clearly_live(check):
        return Verdict(Reason.GOODBYE), check
    verdict = _identified_verdict(scan, frame, result, now)
    return (verdict if verdict.granted else Verdict(Reason.GOODBYE)), check


def _confirm_verdict(centre: Centre, found: Identification) -> Verdict:
    """A face in the grey zone: ask the proposed member's PIN, if face entry may name them and
    they have a PIN at all (else it is simply not recognised: the full PIN pad is there)."""
    member = Member.objects.filter(pk=found.best_member_id, chain_id=centre.chain_id).exclude(pin_hash="").first()
    if member is None or not biometric_consent_active(member) or face_entry_paused(member):
        return Verdict(Reason.NOT_RECOGNISED, score=found.score, margin=found.margin)
    member.chain = centre.chain
    return Verdict(Reason.CONFIRM_PIN, member, found.score, found.margin)


def _identify_by_previous_model(chain_id: int, frame: Frame, result: DoorResult) -> Identification | None:
    """While members move between models (FACE_MODEL_PREVIOUS): the previous model's verdict on
    the face the active model found, among the members who have no active-model template yet.
    None when there is nobody left to move or that model does not accept the face either."""
    gallery = previous_gallery_for(chain_id)
    if gallery is None:
        return None
    with engine_turn() as held:
        if not held:
            return None
        template = get_engine(settings.FACE_MODEL_PREVIOUS).template_of(frame.image, result.detection)
    found = identify(chain_id=chain_id, template=template, model=settings.FACE_MODEL_PREVIOUS, gallery=gallery)
    return found if found.accepted else None


def answer_challenge(*, scan: Scan, nonce: str, frames: list[Frame]) -> Scan:
    """The burst a tablet sends in answer to its scan's challenge: checked (the head turned the
    asked way, a live 3-D face, the same face throughout, each frame passing the passive check),
    then, if it passes, the scan is decided like any face scan on the burst's first frame.
    Raises ChallengeRefused for a wrong nonce, another device's challenge, or a second answer."""
    challenge = door_liveness.claim_challenge(scan=scan, nonce=nonce)
    if challenge is None:  # expired before its answer came
        return expire_challenge(scan)
    check = door_liveness.check_from_challenge(challenge, scan.centre)
    if not door_liveness.reopen_for_decision(scan):
        return reloaded(scan)
    answered_after = challenge.used_at - challenge.created_at
    answered_ms = {"answered_after_ms": int(answered_after.total_seconds() * 1000)}
    if answered_after < door_liveness.MIN_ANSWER_DELAY:  # faster than the frames can be taken
        check = replace(check, challenge={"why": "too_fast"} | answered_ms)
        return decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=check)
    try:
        with engine_turn() as held:
            if not held:
                return decide(scan, Verdict(Reason.UNAVAILABLE), liveness=check)
            engine = get_engine()
            burst = check_burst(
                engine,
                [f.image for f in frames],
                challenge.instruction,
                passive=engine.passive,
                passive_threshold=door_liveness.passive_threshold(),
            )
        check = replace(check, challenge=burst.as_record() | answered_ms)
        if not burst.ok:
            return decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=check)
        check = replace(check, challenge_passed=True)
        decided = decide_face_scan(scan=scan, frame=frames[burst.first], liveness=check)
        if decided.status == Scan.Status.GRANTED:
            learn_door_camera(decided)
            door_liveness.confirm_enrollment(decided.member)
        return decided
    except Exception:
        logger.exception("Challenge answer failed for scan %s", scan.pk)
        return decide(scan, Verdict(Reason.UNAVAILABLE), liveness=check)

"""The door's writes: device tokens, deciding scans and PIN entries, visits and door photos.
Views, the admin, commands, the retention job and signal receivers all come through here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from access import door_agents, rules, stats
from access import liveness as door_liveness
from access.frames import Frame
from access.messages import Reason
from access.models import AccessEvent, Challenge, DeviceToken, Door, DoorAgent, Method, PinLockout, Scan, Visit
from consent.selectors import biometric_consent_active, biometric_reconsent_pending
from justface import audit, face_runtime, metrics, private_files
from justface.face.engine import DoorResult
from justface.face.engine import Reason as FaceReason
from justface.face.liveness import check_burst
from justface.face_runtime import get_engine
from justface.models import AuditEntry
from justface.tokens import new_token
from members.faces import store_face_template
from members.gallery import Identification, identify, previous_gallery_for
from members.models import Centre, Liveness, Member, member_number_hash
from members.policy import ChainPolicy
from members.selectors import exclusion_in_force, face_entry_paused
from members.services import pin_matches

logger = logging.getLogger(__name__)

DEVICE = AuditEntry.ActorKind.DEVICE
# A scan still pending after this long was orphaned (its worker died): it is decided
# `unavailable`, so every scan ends with exactly one access event.
DECISION_TIMEOUT = timedelta(seconds=30)
# How long a face in the grey zone waits for the proposed member's PIN.
CONFIRM_WINDOW = timedelta(seconds=60)
PIN_WINDOW = timedelta(minutes=15)
PIN_LOCKOUT = timedelta(minutes=15)
PIN_FAILURES_PER_NUMBER = 5
PIN_FAILURES_PER_DEVICE = 20
# last_seen_at is for staff ("is the tablet alive?"), not an audit: one write a minute is plenty.
LAST_SEEN_EVERY = timedelta(seconds=60)
# One frame analysed at a time per process: torch already spreads one analysis over
# FACE_TORCH_THREADS cores, and two at once only fight for them (docs/door.md). Scale with
# processes; a frame that cannot get the engine within ENGINE_WAIT is answered `unavailable`.
_engine_slot = face_runtime.engine_slot  # shared with the decoding of frames and with enrollment
ENGINE_WAIT_SECONDS = face_runtime.ENGINE_WAIT_SECONDS
_ENGINE_REASONS = {"no_face": Reason.NO_FACE, "multiple_faces": Reason.MULTIPLE_FACES}


# What a tablet may declare it handles (issue #21): in its heartbeat (`supports`) or with a scan.
# A tablet that has not declared a feature never gets its status: where the door would ask a
# challenge or a grey-zone PIN of it, it gets a final refusal that offers the PIN pad (`use_pin`).
FEATURE_CHALLENGE, FEATURE_CONFIRM = "challenge", "confirm"
ALL_FEATURES = frozenset({FEATURE_CHALLENGE, FEATURE_CONFIRM})


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    member: Member | None = None
    score: float | None = None
    margin: float | None = None
    # The access event's reason where staff must see more than the tablet may (a locked member
    # number is `pin_locked` for staff, `wrong_pin` at the door); None: the same as `reason`.
    recorded: Reason | None = None

    @property
    def granted(self) -> bool:
        """A member is let through (or checked out): the event names them, presence changes."""
        return self.reason is Reason.OK

    @property
    def status(self) -> str:
        # A neutral goodbye (check-out that names no one) is not a refusal: leaving is never refused.
        return Scan.Status.GRANTED if self.reason in (Reason.OK, Reason.GOODBYE) else Scan.Status.DENIED


# --- doors and device tokens -------------------------------------------------------------


def ensure_door(*, centre: Centre, name: str, actor) -> Door:
    door, created = Door.objects.get_or_create(centre=centre, name=name)
    if created:
        audit.record(action="door.add", actor=actor, obj=door, chain_id=centre.chain_id)
    return door


def issue_device_token(*, door: Door, label: str = "", actor) -> tuple[DeviceToken, str]:
    """A new token for the door's tablet. The raw token is returned once and stored nowhere."""
    raw, hashed = new_token()
    token = DeviceToken.objects.create(door=door, label=label, token_hash=hashed)
    audit.record(action="door.token_issue", actor=actor, obj=token, chain_id=door.centre.chain_id)
    return token, raw


def revoke_device_token(*, token: DeviceToken, actor) -> bool:
    """Revoke at once: the next request with the token is refused. False if already revoked."""
    revoked = DeviceToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()) == 1
    if revoked:
        audit.record(action="door.token_revoke", actor=actor, obj=token, chain_id=token.door.centre.chain_id)
    return revoked


def touch_device(device: DeviceToken, *, at: datetime) -> None:
    if device.last_seen_at is None or at - device.last_seen_at >= LAST_SEEN_EVERY:
        DeviceToken.objects.filter(pk=device.pk).update(last_seen_at=at)
        device.last_seen_at = at


def record_heartbeat(*, device: DeviceToken, status: dict) -> None:
    """The tablet's status, replacing the last one: what it declares it supports (`supports`)
    holds until its next heartbeat; a heartbeat without it declares nothing."""
    device.last_seen_at, device.last_status = timezone.now(), status
    DeviceToken.objects.filter(pk=device.pk).update(last_seen_at=device.last_seen_at, last_status=status)


# --- scans ---------------------------------------------------------------------------------


def device_supports(device: DeviceToken) -> frozenset[str]:
    """The features the tablet declared in its last heartbeat (none before its first)."""
    status = device.last_status if isinstance(device.last_status, dict) else {}
    declared = status.get("supports") or []
    return frozenset(str(f) for f in declared if isinstance(f, str)) & ALL_FEATURES


def open_scan(
    *,
    device: DeviceToken,
    method: str,
    direction: str,
    idempotency_key: str = "",
    member_number_hash: str = "",
    supports: Iterable[str] | None = None,
) -> tuple[Scan, bool]:
    """A new pending scan, committed at once so that a retry finds it; or, with a known
    idempotency key, the scan that key already names (created is then False). Inserting first
    costs a first request no look-up; the unique constraint catches retries, racing or not.
    `supports`: what the tablet declared with this request (None: what its last heartbeat said)."""
    features = device_supports(device) if supports is None else frozenset(supports) & ALL_FEATURES
    try:
        with transaction.atomic():
            scan = Scan.objects.create(
                device=device,
                door=device.door,
                centre=device.door.centre,
                method=method,
                direction=direction,
                idempotency_key=idempotency_key,
                member_number_hash=member_number_hash,
                client_supports=",".join(sorted(features)),
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        return Scan.objects.select_related("centre__chain", "member").get(
            device=device, idempotency_key=idempotency_key
        ), False
    return scan, True


def decide_face_scan(
    *, scan: Scan, frame: Frame, burst: Sequence[Frame] = (), liveness: door_liveness.LivenessCheck | None = None
) -> Scan:
    """Decide a face scan from one frame, or a burst of frames of the same visit (fused into one
    template: FaceEngine.analyse_door_burst), under the centre's liveness policy. The frame kept
    as door photo is the one whose face was found first."""
    check = liveness or door_liveness.check_for(scan)
    frames = [frame, *burst]
    try:
        verdict, shown = _face_verdict(scan, frames, check)
    except Exception:
        # Never the frame or a template in a log line: the scan id is enough to find the case.
        logger.exception("Face decision failed for scan %s", scan.pk)
        verdict, shown = Verdict(Reason.UNAVAILABLE), frame
    if verdict is CHALLENGE_ISSUED:
        return scan  # status `challenge`: decided when the burst comes, or when the challenge expires
    if verdict.reason is Reason.CONFIRM_PIN:
        if FEATURE_CONFIRM in scan.supports:
            return _await_pin(scan, verdict, frame=shown.data)
        # A tablet that cannot ask for the PIN alone gets a final answer: the PIN pad. The
        # proposed member is not named, not even in the event (nobody confirmed them).
        verdict = Verdict(Reason.USE_PIN, score=verdict.score, margin=verdict.margin)
    return _decide(scan, verdict, frame=shown.data, liveness=check)


def _await_pin(scan: Scan, verdict: Verdict, *, frame: bytes) -> Scan:
    """Park a grey-zone scan until the proposed member's PIN comes (confirm_scan) or the window
    passes (expire_scan_if_stale). The frame is kept, encrypted, only where the chain keeps door
    photos, and at most for the window unless the PIN grants entry."""
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
    }
    if Scan.objects.filter(pk=scan.pk, status=Scan.Status.PENDING).update(**fields) != 1:
        private_files.delete(photo)
        return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
    for name, value in fields.items():
        setattr(scan, name, value)
    return scan


def confirm_scan(*, device: DeviceToken, scan: Scan, pin: str) -> Scan:
    """The proposed member's PIN for a grey-zone face, one try per scan: checked 1:1 against that
    member under the PIN lockouts of their member number and of the device. The access event
    records both: method face_pin, the face's score and margin, and the PIN's outcome."""
    if scan.device_id != device.pk:
        return scan
    scan = expire_scan_if_stale(scan)
    # Claim the scan (compare-and-set): a second PIN for the same scan is never checked.
    if (
        Scan.objects.filter(pk=scan.pk, status=Scan.Status.CONFIRM).update(
            status=Scan.Status.PENDING, method=Method.FACE_PIN
        )
        != 1
    ):
        return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
    scan.status, scan.method = Scan.Status.PENDING, Method.FACE_PIN
    now, member = timezone.now(), scan.member
    gate = reserve_pin_attempt(scan=scan, at=now)
    if gate == PIN_PAD_LOCKED:
        verdict = Verdict(Reason.PIN_LOCKED, score=scan.score, margin=scan.margin)
    elif gate == NUMBER_LOCKED:
        # Answered like any wrong PIN (issue #21): the door never says that a number is locked.
        _wrong_pin_unchecked(scan, pin)
        verdict = Verdict(Reason.WRONG_PIN, score=scan.score, margin=scan.margin, recorded=Reason.PIN_LOCKED)
    else:
        right = pin_matches(member=member, pin=pin)
        settle_pin_attempt(scan=scan, right=right, at=timezone.now())
        verdict = (
            Verdict(_entry_refusal(member, scan, now) or Reason.OK, member, scan.score, scan.margin)
            if right
            else Verdict(Reason.WRONG_PIN, score=scan.score, margin=scan.margin)
        )
    return _decide(scan, verdict)


def _face_verdict(
    scan: Scan, frames: list[Frame], check: door_liveness.LivenessCheck | None = None
) -> tuple[Verdict, Frame]:
    """The verdict, and the frame that showed the face (the first frame when none did)."""
    centre, now = scan.centre, timezone.now()
    check = check or door_liveness.LivenessCheck()
    if refused := rules.door_refusal(scan.door, centre, scan.direction, now):
        return Verdict(refused), frames[0]  # no face is analysed while the door is closed to all
    if not _engine_slot.acquire(timeout=ENGINE_WAIT_SECONDS):
        return Verdict(Reason.UNAVAILABLE), frames[0]
    try:
        engine = get_engine()
        with metrics.timed("frame_analysis"):
            result = (
                engine.analyse_door_frame(frames[0].image, liveness_threshold=check.threshold)
                if len(frames) == 1
                else engine.analyse_door_burst([f.image for f in frames], liveness_threshold=check.threshold)
            )
    finally:
        _engine_slot.release()
    frame = frames[result.frame]
    if scan.direction == "out":
        return _check_out_verdict(scan, frame, result, check, now), frame
    if (step := _liveness_step(scan, result, check)) is not None:
        return step, frame
    if not result.ok:
        return Verdict(_ENGINE_REASONS.get(str(result.reason), Reason.POOR_QUALITY)), frame
    verdict = _identified_verdict(scan, frame, result, now)
    if (step := _enrollment_liveness_step(scan, verdict, check)) is not None:
        return step, frame
    return verdict, frame


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
    verdict = Verdict(_entry_refusal(member, scan, now) or Reason.OK, member, found.score, found.margin)
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
) -> Verdict:
    """Leaving by face (issue #21): a photo held up with *I am leaving* must neither name anyone,
    nor close their visit, nor reveal any status. So a check-out names the member and closes the
    visit only when the centre's passive liveness check ran and the frame is clearly live for the
    door's camera, as an entry that needs no challenge (none is asked on the way out). Everything
    else, whoever it is (not live, in doubt, liveness off, not recognised, grey zone, no consent,
    re-consent pending, face entry paused), gets one neutral goodbye (`goodbye`) that names no one
    and changes nothing."""
    if check.active and result.liveness is not None:
        check.passive, check.layer = result.liveness, "passive"
        check.cues = result.cues if result.cues is not None else check.cues
    if result.reason == FaceReason.NOT_LIVE:
        return Verdict(Reason.GOODBYE)
    if not result.ok:
        # No face, two faces, poor quality: the same for everyone (the kiosk learns an empty door).
        return Verdict(_ENGINE_REASONS.get(str(result.reason), Reason.POOR_QUALITY))
    if not check.active or check.passive is None or not door_liveness.clearly_live(scan.door, check):
        return Verdict(Reason.GOODBYE)  # no face is compared with any member
    verdict = _identified_verdict(scan, frame, result, now)
    return verdict if verdict.granted else Verdict(Reason.GOODBYE)


def _confirm_verdict(centre: Centre, found: Identification) -> Verdict:
    """A face in the grey zone: ask the proposed member's PIN, if face entry may name them and
    they have a PIN at all (else it is simply not recognised: the full PIN pad is there)."""
    member = Member.objects.filter(pk=found.best_member_id, chain_id=centre.chain_id).exclude(pin_hash="").first()
    if member is None or not biometric_consent_active(member) or face_entry_paused(member):
        return Verdict(Reason.NOT_RECOGNISED, score=found.score, margin=found.margin)
    member.chain = centre.chain
    return Verdict(Reason.CONFIRM_PIN, member, found.score, found.margin)


# --- liveness (issue #17): a step of its own, before identification ------------------------

CHALLENGE_ISSUED = Verdict(Reason.UNAVAILABLE)  # sentinel: the scan waits for a challenge's answer


def _liveness_step(scan: Scan, result: DoorResult, check: door_liveness.LivenessCheck) -> Verdict | None:
    """The centre's liveness policy on a door frame the engine has analysed (access.liveness).
    A Verdict refuses (``liveness_failed``); CHALLENGE_ISSUED parks the scan until its burst
    comes; None lets the usual decision go on (identification and the rest)."""
    if not check.active:
        return None
    check.passive = result.liveness if result.liveness is not None else check.passive
    check.cues = result.cues if result.cues is not None else check.cues
    if result.reason == FaceReason.NOT_LIVE:
        check.layer = "passive"
        return Verdict(Reason.LIVENESS_FAILED)
    if not result.ok:
        return None  # no face, two faces, poor quality: the usual answers
    if check.challenge_passed:
        return None
    check.layer = "passive"
    check.reference = door_liveness.door_reference(scan.door)  # clearly live for THIS door's camera
    check.trigger = door_liveness.challenge_trigger(
        scan.centre, check.passive, cues=check.cues, reference=check.reference
    )
    if check.trigger:
        if FEATURE_CHALLENGE not in scan.supports:
            # A tablet that cannot show a challenge gets a final refusal offering the PIN pad,
            # never a way around the challenge: nobody is identified from this frame.
            check.challenge = {"why": "not_supported"}
            return Verdict(Reason.USE_PIN)
        door_liveness.issue_challenge(scan=scan, check=check)
        return CHALLENGE_ISSUED
    return None


def _enrollment_liveness_step(scan: Scan, verdict: Verdict, check: door_liveness.LivenessCheck) -> Verdict | None:
    """Issue #27: a member whose enrollment photo was not clearly live (a print of someone else
    is the other half of the attack) gets the challenge before the door opens, until one entry
    has passed it. Only where the centre's policy has the challenge."""
    if not verdict.granted or check.challenge_passed or check.mode != Liveness.CHALLENGE_IN_DOUBT:
        return None
    if not door_liveness.enrollment_in_doubt(verdict.member):
        return None
    check.trigger = "enrollment"
    door_liveness.issue_challenge(scan=scan, check=check)
    return CHALLENGE_ISSUED


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
        return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
    answered_after = challenge.used_at - challenge.created_at
    if answered_after < door_liveness.MIN_ANSWER_DELAY:  # faster than the frames can be taken
        check.challenge = {"why": "too_fast", "answered_after_ms": int(answered_after.total_seconds() * 1000)}
        return _decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=check)
    try:
        if not _engine_slot.acquire(timeout=ENGINE_WAIT_SECONDS):
            return _decide(scan, Verdict(Reason.UNAVAILABLE), liveness=check)
        try:
            engine = get_engine()
            burst = check_burst(
                engine,
                [f.image for f in frames],
                challenge.instruction,
                passive=engine.passive,
                passive_threshold=door_liveness.passive_threshold(),
            )
        finally:
            _engine_slot.release()
        check.challenge = burst.as_record() | {"answered_after_ms": int(answered_after.total_seconds() * 1000)}
        if not burst.ok:
            return _decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=check)
        check.challenge_passed = True
        decided = decide_face_scan(scan=scan, frame=frames[burst.first], liveness=check)
        if decided.status == Scan.Status.GRANTED:
            _learn_door_camera(decided)
            door_liveness.confirm_enrollment(decided.member)
        return decided
    except Exception:
        logger.exception("Challenge answer failed for scan %s", scan.pk)
        return _decide(scan, Verdict(Reason.UNAVAILABLE), liveness=check)


def _learn_door_camera(scan: Scan) -> None:
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
        return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
    check = door_liveness.check_from_challenge(challenge, scan.centre) if challenge else door_liveness.LivenessCheck()
    check.challenge = {"why": "unanswered"}
    return _decide(scan, Verdict(Reason.LIVENESS_FAILED), liveness=check)


def expire_stale_challenges(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    stale = Scan.objects.select_related("centre__chain").filter(
        status=Scan.Status.CHALLENGE, challenge__expires_at__lte=at
    )
    return sum(1 for scan in stale if expire_challenge(scan).reason == Reason.LIVENESS_FAILED)


def _identify_by_previous_model(chain_id: int, frame: Frame, result: DoorResult) -> Identification | None:
    """While members move between models (FACE_MODEL_PREVIOUS): the previous model's verdict on
    the face the active model found, among the members who have no active-model template yet.
    None when there is nobody left to move or that model does not accept the face either."""
    gallery = previous_gallery_for(chain_id)
    if gallery is None or not _engine_slot.acquire(timeout=ENGINE_WAIT_SECONDS):
        return None
    try:
        template = get_engine(settings.FACE_MODEL_PREVIOUS).template_of(frame.image, result.detection)
    finally:
        _engine_slot.release()
    found = identify(chain_id=chain_id, template=template, model=settings.FACE_MODEL_PREVIOUS, gallery=gallery)
    return found if found.accepted else None


def _entry_refusal(member: Member, scan: Scan, now: datetime) -> Reason | None:
    """Why an identified member may not pass (None: they may). Leaving is never refused."""
    if scan.direction == "out":
        return None
    if not rules.membership_running(member, now, scan.centre):
        return Reason.MEMBERSHIP_INACTIVE
    if exclusion_in_force(member, on=rules.local(scan.centre, now).date()):
        return Reason.EXCLUDED
    return rules.member_refusal(member, scan.door, scan.method, now)  # the door's own rules


def decide_pin(*, device: DeviceToken, member_number: str, pin: str, direction: str, idempotency_key: str = "") -> Scan:
    """A PIN entry: the alternative to face scan, whatever the member's face consent."""
    scan, created = open_scan(
        device=device,
        method="pin",
        direction=direction,
        idempotency_key=idempotency_key,
        member_number_hash=member_number_hash(member_number),
    )
    if not created:
        return scan
    verdict = _pin_verdict(scan, pin)
    return _decide(scan, verdict)


def _pin_verdict(scan: Scan, pin: str) -> Verdict:
    centre, now = scan.centre, timezone.now()
    if refused := rules.door_refusal(scan.door, centre, scan.direction, now):
        return Verdict(refused)
    gate = reserve_pin_attempt(scan=scan, at=now)
    if gate == PIN_PAD_LOCKED:
        return Verdict(Reason.PIN_LOCKED)  # the whole pad: it says nothing about any number
    member = (
        Member.objects.select_related("chain")
        .filter(chain=centre.chain_id, member_number_hash=scan.member_number_hash)
        .first()
    )
    if gate == NUMBER_LOCKED:
        # A locked member number answers exactly like an unknown one (issue #21): same reason,
        # message and work (the hasher runs, the device's count takes a wrong PIN), so probing
        # numbers cannot find the member a look-alike's grey-zone tries locked. Staff see
        # `pin_locked` on the access event.
        _wrong_pin_unchecked(scan, pin)
        return Verdict(Reason.WRONG_PIN, recorded=Reason.PIN_LOCKED)
    # An unknown number or a member without a PIN takes as long as a wrong PIN and gets the same
    # answer: the PIN pad tells nobody which member numbers exist.
    right = pin_matches(member=member, pin=pin)
    settle_pin_attempt(scan=scan, right=right, at=timezone.now())
    if not right:
        return Verdict(Reason.WRONG_PIN)
    return Verdict(_entry_refusal(member, scan, now) or Reason.OK, member)


# --- PIN lockouts ------------------------------------------------------------------------
# Each PIN entry first takes one attempt from the allowance of its member number and of its
# device, under those rows' locks (select_for_update), and only then is the PIN checked (the
# hasher runs outside the lock). Parallel entries queue on the rows: once the allowance is
# taken, by failures or by entries still being checked, the next entry is refused unchecked.
# So at most PIN_FAILURES_PER_NUMBER PINs are ever checked per member number and window.


def _lockout_keys(scan: Scan) -> list[tuple[str, int, dict]]:
    # Always the member number's row first, then the device's: one lock order, no deadlocks.
    return [
        ("member number", PIN_FAILURES_PER_NUMBER, {"device": None, "member_number_hash": scan.member_number_hash}),
        ("device", PIN_FAILURES_PER_DEVICE, {"device_id": scan.device_id}),
    ]


def _locked_rows(scan: Scan) -> list[tuple[str, int, PinLockout]]:
    """The scan's two lockout rows, created if need be, locked until the transaction ends."""
    rows = []
    for what, limit, key in _lockout_keys(scan):
        row, _ = PinLockout.objects.select_for_update().get_or_create(chain_id=scan.centre.chain_id, **key)
        rows.append((what, limit, row))
    return rows


def _roll(row: PinLockout, *, now: datetime, today) -> None:
    """A new window once the last one has passed or its lock has ended; a new day's count."""
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until, row.failures = None, 0
    if row.locked_until is None and row.window_started_at <= now - PIN_WINDOW:
        row.failures = 0
    if row.failures == 0:
        row.window_started_at = now
    if row.device_id and row.day != today:
        row.day, row.day_failures = today, 0


PIN_OPEN, NUMBER_LOCKED, PIN_PAD_LOCKED = "", "number", "device"


def reserve_pin_attempt(*, scan: Scan, at: datetime) -> str:
    """Take one attempt for the scan's member number and device. PIN_OPEN: both taken, check the
    PIN. PIN_PAD_LOCKED: the device is locked, nothing taken. NUMBER_LOCKED: the member number
    is locked; only the device's attempt is taken (the entry then counts as a wrong PIN there,
    like one for an unknown number), the number's lock is left as it is."""
    policy, today = scan.centre.chain.policy, rules.local(scan.centre, at).date()
    with transaction.atomic():
        rows = _locked_rows(scan)
        for _, _, row in rows:
            _roll(row, now=at, today=today)
        (_, number_limit, number), (_, device_limit, device) = rows
        if (
            device.locked_until is not None
            or device.failures >= device_limit
            or device.day_failures >= policy.pin_device_daily_failures
        ):
            gate = PIN_PAD_LOCKED
        else:
            device.failures += 1
            device.day_failures += 1
            gate = NUMBER_LOCKED if number.locked_until is not None or number.failures >= number_limit else PIN_OPEN
            if gate == PIN_OPEN:
                number.failures += 1
        for _, _, row in rows:
            row.save()
    return gate


def _wrong_pin_unchecked(scan: Scan, pin: str) -> None:
    """An entry for a locked member number: the hasher runs on nothing (the time of any check)
    and the device counts a wrong PIN; the number's lock is neither checked against nor extended."""
    pin_matches(member=None, pin=pin)
    settle_pin_attempt(scan=scan, right=False, at=timezone.now(), number=False)


def settle_pin_attempt(*, scan: Scan, right: bool, at: datetime, number: bool = True) -> None:
    """After the check: a right PIN resets the member number's count and gives the device its
    attempt back; a wrong one stays counted and locks a key that has reached its limit (15
    minutes), or the device's PIN pad for the rest of the day at the chain's daily cap.
    `number` False: the device's row only (an entry for a locked member number)."""
    chain_id, policy = scan.centre.chain_id, scan.centre.chain.policy
    with transaction.atomic():
        for what, limit, row in _locked_rows(scan):
            if not number and not row.device_id:
                continue
            if right:
                row.failures = 0 if not row.device_id else max(row.failures - 1, 0)
                row.day_failures = max(row.day_failures - 1, 0) if row.device_id else 0
                row.save()
                continue
            until = None
            if row.device_id and row.day_failures >= policy.pin_device_daily_failures:
                local = rules.local(scan.centre, at)
                until, why = (
                    local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1),
                    f"device: {row.day_failures} wrong PINs today (daily cap)",
                )
            elif row.failures >= limit:
                until, why = at + PIN_LOCKOUT, f"{what}: {row.failures} wrong PINs in 15 minutes"
            if until is not None and (row.locked_until is None or row.locked_until < until):
                row.locked_until = until
                row.save()
                metrics.pin_lockout(scan=scan, key="device" if row.device_id else "member_number")
                audit.record(
                    action="door.pin_lockout",
                    actor_kind=DEVICE,
                    actor_id=scan.device_id,
                    obj=row,
                    chain_id=chain_id,
                    reason=why,
                )


def unlock_pin_pad(*, device: DeviceToken, actor) -> bool:
    """Staff lift a device's PIN lock (after the daily cap, or a 15-minute lock) and clear its
    counts. False if the pad was not locked."""
    with transaction.atomic():
        unlocked = (
            PinLockout.objects.filter(device=device)
            .exclude(locked_until=None)
            .update(locked_until=None, failures=0, day_failures=0)
        )
        PinLockout.objects.filter(device=device).update(failures=0, day_failures=0)
    if unlocked:
        audit.record(
            action="door.pin_unlock",
            actor=actor,
            object_type="access.devicetoken",
            object_id=device.pk,
            chain_id=device.door.centre.chain_id,
        )
    return bool(unlocked)


def purge_pin_lockouts(*, at: datetime) -> int:
    """Rows whose window, lock and day are over hold nothing worth keeping (and a member
    number's keyed hash is personal data): delete them."""
    stale = (
        PinLockout.objects.filter(window_started_at__lt=at - PIN_WINDOW)
        .filter(Q(locked_until=None) | Q(locked_until__lte=at))
        .filter(Q(device=None) | Q(window_started_at__lt=at - timedelta(days=2)))
    )
    return stale.delete()[1].get("access.PinLockout", 0)


def forget_member_number(*, chain_id: int, member_number_hash: str) -> int:
    """Erasure: the member number's lockout row, and the hash on PIN entries not yet purged."""
    Scan.objects.filter(centre__chain=chain_id, member_number_hash=member_number_hash).update(member_number_hash="")
    return PinLockout.objects.filter(chain_id=chain_id, device=None, member_number_hash=member_number_hash).delete()[0]


def expire_scan_if_stale(scan: Scan, *, at: datetime | None = None) -> Scan:
    at = at or timezone.now()
    if scan.status == Scan.Status.CHALLENGE and Challenge.objects.filter(scan=scan, expires_at__lte=at).exists():
        return expire_challenge(scan)
    # A grey-zone scan whose PIN is being checked is pending again: its clock runs from the window.
    timeout = DECISION_TIMEOUT + (CONFIRM_WINDOW if scan.method == Method.FACE_PIN else timedelta(0))
    if scan.status == Scan.Status.PENDING and scan.created_at <= at - timeout:
        return _decide(scan, Verdict(Reason.UNAVAILABLE))
    if scan.status == Scan.Status.CONFIRM and scan.created_at <= at - CONFIRM_WINDOW:
        return _decide(scan, Verdict(Reason.NOT_CONFIRMED, score=scan.score, margin=scan.margin))
    return scan


def expire_stale_scans(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    stale = Scan.objects.select_related("centre__chain", "member").filter(
        Q(status=Scan.Status.PENDING, created_at__lte=at - DECISION_TIMEOUT)
        | Q(status=Scan.Status.CONFIRM, created_at__lte=at - CONFIRM_WINDOW)
    )
    expired = sum(
        1 for scan in stale if expire_scan_if_stale(scan, at=at).reason in (Reason.UNAVAILABLE, Reason.NOT_CONFIRMED)
    )
    return expired + expire_stale_challenges(at=at)  # challenges nobody answered: liveness_failed


def _frame_deadline(
    policy: ChainPolicy, verdict: Verdict, visit_ends: datetime | None, now: datetime
) -> datetime | None:
    """Until when the frame may be kept; None: not at all."""
    if verdict.reason is Reason.GOODBYE:
        return None  # a neutral check-out refused nobody and names no one: nothing to keep it for
    if verdict.granted:
        return visit_ends if policy.door_photo_max_hours else None
    return now + timedelta(hours=policy.denied_frame_hours) if policy.denied_frame_hours else None


def _decide(
    scan: Scan, verdict: Verdict, *, frame: bytes | None = None, liveness: door_liveness.LivenessCheck | None = None
) -> Scan:
    """Record the decision once: scan, access event and visit in one transaction. If the scan
    was decided meanwhile (expired by a sweeper), that decision stands and is returned."""
    now = timezone.now()
    policy = scan.centre.chain.policy  # parsed once per decision
    visit_ends = rules.visit_end(scan.centre, policy, now) if verdict.granted and scan.direction == "in" else None
    # A grey-zone scan already holds its frame (kept while it waited for the PIN); no other scan
    # has one before its decision.
    held = scan.frame_file
    keep_until = _frame_deadline(policy, verdict, visit_ends, now) if frame or held else None
    photo = (held or private_files.save("door_photo", frame)) if keep_until else ""
    fields = {
        "status": verdict.status,
        "reason": verdict.reason.value,
        "member": verdict.member,
        "decided_at": now,
        "frame_file": photo,
        "frame_expires_at": keep_until,
        "method": scan.method,
    }
    try:
        with transaction.atomic():
            if (
                Scan.objects.filter(pk=scan.pk, status__in=[Scan.Status.PENDING, Scan.Status.CONFIRM]).update(**fields)
                != 1
            ):
                if photo != held:
                    private_files.delete(photo)
                return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
            if held and not photo:
                private_files.delete_on_commit([held])
            for name, value in fields.items():
                setattr(scan, name, value)
            event = AccessEvent.objects.create(
                centre_id=scan.centre_id,
                door_id=scan.door_id,
                member=verdict.member,
                scan=scan,
                method=scan.method,
                direction=scan.direction,
                decision=scan.status,
                reason=(verdict.recorded or verdict.reason).value,
                score=verdict.score,
                margin=verdict.margin,
                **(liveness.record() if liveness else {}),
                flag=rules.entry_flag(scan.door, verdict.member, scan.direction, now) if verdict.granted else "",
            )
            if verdict.granted:
                _record_presence(scan, now, visit_ends)
            stats.count_event(event)  # the anonymous hourly counts, in the event's transaction
            if scan.status == Scan.Status.GRANTED:
                door_agents.queue_open(event=event, scan=scan)  # signed, for this door's agent only
    except BaseException:
        if photo != held:
            private_files.delete(photo)  # nothing half-written: no frame without its row
        raise
    metrics.door_decided(scan=scan, reason=event.reason, liveness=liveness)
    return scan


def _record_presence(scan: Scan, now: datetime, visit_ends: datetime | None) -> None:
    """A check-in opens a visit, a check-out closes it. Either way the member's earlier open
    visits end now and their door photos go: a member is inside one centre at a time."""
    member = scan.member
    earlier = list(
        Visit.objects.select_for_update()
        .filter(member=member, checked_out_at=None, ends_at__gt=now)
        .values_list("pk", flat=True)
    )
    if earlier:
        _drop_frames(Scan.objects.filter(visit__in=earlier))
        Visit.objects.filter(pk__in=earlier).update(checked_out_at=now)
    if scan.direction == "in":
        Visit.objects.create(
            member=member, centre_id=scan.centre_id, check_in_scan=scan, checked_in_at=now, ends_at=visit_ends
        )


def _drop_frames(scans: QuerySet[Scan]) -> int:
    """Forget the scans' kept frames; the files are deleted once the transaction commits."""
    kept = dict(scans.exclude(frame_file="").select_for_update().values_list("pk", "frame_file"))
    Scan.objects.filter(pk__in=kept).update(frame_file="", frame_expires_at=None)
    names = list(kept.values())
    private_files.delete_on_commit(names)
    return len(names)


def drop_frame(*, scan_id) -> bool:
    """Delete one scan's kept frame (the retention job, when its time is up)."""
    with transaction.atomic():
        return _drop_frames(Scan.objects.filter(pk=scan_id)) == 1


def erase_door_photos(*, member: Member) -> int:
    """Every kept frame of the member, at once (biometric erasure: withdrawal, end, request)."""
    with transaction.atomic():
        return _drop_frames(Scan.objects.filter(member=member))


def purge_old_scans(*, before: datetime) -> int:
    """Decided scans are working data (polling, retries, PIN counting); their access events
    stay. A scan still holding a frame waits for the frame's deadline."""
    old = Scan.objects.filter(created_at__lt=before, frame_file="").exclude(status=Scan.Status.PENDING)
    return old.delete()[1].get("access.Scan", 0)


def erase_member_access_data(*, member: Member) -> dict[str, int]:
    """Erasure of a member (retention.services.erase_member calls each app in turn): check-ins
    stay as anonymous counts (the access event without the member), visits and scans go (their
    door photos went with the biometric erasure before), and the member number leaves the PIN
    lockouts and the PIN entries not yet purged."""
    anonymised = AccessEvent.objects.filter(member=member).update(member=None)
    visits = Visit.objects.filter(member=member).delete()[1].get("access.Visit", 0)
    scans = Scan.objects.filter(member=member).delete()[1].get("access.Scan", 0)
    lockouts = forget_member_number(chain_id=member.chain_id, member_number_hash=member.member_number_hash)
    return {
        "check_ins_anonymised": anonymised,
        "visits_deleted": visits,
        "scans_deleted": scans,
        "pin_lockouts_deleted": lockouts,
    }


# --- door agents (issue #24; the rest in access.door_agents) ---------------------------------------


def issue_door_agent(*, door: Door, label: str = "", actor) -> tuple[DoorAgent, str]:
    """A new credential for the agent beside the door. The raw token is returned once and stored nowhere."""
    raw, hashed = new_token()
    agent = DoorAgent.objects.create(door=door, label=label, token_hash=hashed)
    audit.record(action="door.agent_issue", actor=actor, obj=agent, chain_id=door.centre.chain_id)
    return agent, raw


def revoke_door_agent(*, agent: DoorAgent, actor) -> bool:
    """Revoke at once: its next request (and a long poll it holds) gets nothing. False if already revoked."""
    revoked = DoorAgent.objects.filter(pk=agent.pk, revoked_at=None).update(revoked_at=timezone.now()) == 1
    if revoked:
        audit.record(action="door.agent_revoke", actor=actor, obj=agent, chain_id=agent.door.centre.chain_id)
    return revoked

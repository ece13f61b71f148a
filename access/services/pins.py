"""PIN entries: a member number and PIN at the pad (whatever the member's face consent), and the
grey zone's one PIN for the member a face proposed. Both answer a locked member number exactly
like a wrong PIN, and an unknown number like a wrong PIN, after the same work."""

from __future__ import annotations

from django.utils import timezone

from access import rules
from access.messages import Reason
from access.models import DeviceToken, Method, Scan
from access.services.decision import decide, entry_refusal, open_scan
from access.services.expiry import expire_scan_if_stale
from access.services.lockouts import NUMBER_LOCKED, PIN_PAD_LOCKED, reserve_pin_attempt, settle_pin_attempt
from access.services.verdicts import Verdict, reloaded
from members.models import Member, member_number_hash
from members.services import pin_matches


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
    return decide(scan, verdict)


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
        # A locked member number answers exactly like an unknown one: same reason, message and
        # work (the hasher runs, the device's count takes a wrong PIN), so probing numbers
        # cannot find the member a look-alike's grey-zone tries locked. Staff see `pin_locked`
        # on the access event.
        _wrong_pin_unchecked(scan, pin)
        return Verdict(Reason.WRONG_PIN, recorded=Reason.PIN_LOCKED)
    # An unknown number or a member without a PIN takes as long as a wrong PIN and gets the same
    # answer: the PIN pad tells nobody which member numbers exist.
    right = pin_matches(member=member, pin=pin)
    settle_pin_attempt(scan=scan, right=right, at=timezone.now())
    if not right:
        return Verdict(Reason.WRONG_PIN)
    return Verdict(entry_refusal(member, scan, now) or Reason.OK, member)


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
        return reloaded(scan)
    scan.status, scan.method = Scan.Status.PENDING, Method.FACE_PIN
    now, member = timezone.now(), scan.member
    gate = reserve_pin_attempt(scan=scan, at=now)
    if gate == PIN_PAD_LOCKED:
        verdict = Verdict(Reason.PIN_LOCKED, score=scan.score, margin=scan.margin)
    elif gate == NUMBER_LOCKED:
        # Answered like any wrong PIN: the door never says that a number is locked.
        _wrong_pin_unchecked(scan, pin)
        verdict = Verdict(Reason.WRONG_PIN, score=scan.score, margin=scan.margin, recorded=Reason.PIN_LOCKED)
    else:
        right = pin_matches(member=member, pin=pin)
        settle_pin_attempt(scan=scan, right=right, at=timezone.now())
        verdict = (
            Verdict(entry_refusal(member, scan, now) or Reason.OK, member, scan.score, scan.margin)
            if right
            else Verdict(Reason.WRONG_PIN, score=scan.score, margin=scan.margin)
        )
    return decide(scan, verdict)


def _wrong_pin_unchecked(scan: Scan, pin: str) -> None:
    """An entry for a locked member number: the hasher runs on nothing (the time of any check)
    and the device counts a wrong PIN; the number's lock is neither checked against nor extended."""
    pin_matches(member=None, pin=pin)
    settle_pin_attempt(scan=scan, right=False, at=timezone.now(), number=False)

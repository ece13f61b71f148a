"""PIN lockouts: each PIN entry first takes one attempt from the allowance of its member number
and of its device, under those rows' locks (select_for_update), and only then is the PIN checked
(the hasher runs outside the lock). Parallel entries queue on the rows: once the allowance is
taken, by failures or by entries still being checked, the next entry is refused unchecked. So at
most PIN_FAILURES_PER_NUMBER PINs are ever checked per member number and window."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from access import rules
from access.models import DeviceToken, PinLockout, Scan
from justface import audit, metrics
from justface.models import AuditEntry

DEVICE = AuditEntry.ActorKind.DEVICE
PIN_WINDOW = timedelta(minutes=15)
PIN_LOCKOUT = timedelta(minutes=15)
PIN_FAILURES_PER_NUMBER = 5
PIN_FAILURES_PER_DEVICE = 20


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

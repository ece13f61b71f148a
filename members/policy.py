"""A chain's own settings (retention periods, photo keeping, minor age): configuration per
chain, never code. Stored as JSON on Chain.settings; unknown keys are refused."""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError

from justface.personal_data import policy_key


@dataclass(frozen=True)
class ChainPolicy:
    # Members under this age need a guardian's confirmation for biometric consent.
    minor_age: int = 18
    # Keep the enrollment selfie (encrypted) so the desk can compare faces, or keep only the template.
    keep_member_photo: bool = False
    # Door photos of granted scans live until check-out, at most this many hours.
    door_photo_max_hours: int = 4
    # Frames of denied scans: 0 deletes them at once; a few hours helps support.
    denied_frame_hours: int = 0
    # Days after the membership ends before check-ins and membership data are erased.
    checkins_retention_days: int = 3 * 365
    # Days after the membership ends before template and photos go (0: at once).
    biometric_retention_days: int = 0
    # Days after the membership ends before the door PIN's hash goes (0: the day after its last day).
    pin_retention_days: int = 0
    # Days after the membership ends before marketing consent records go (until withdrawn, at most this).
    marketing_retention_days: int = 180
    # Days after a data-subject request is closed (completed or refused) before it is deleted,
    # with the person's message and the answer.
    requests_retention_days: int = 3 * 365
    # Days an audit entry is kept; only the purge may delete it (at least a year: see the trigger).
    audit_retention_days: int = 5 * 365
    # Days a finished erasure job (ids and a count) is kept as the purge's own record.
    erasure_job_retention_days: int = 90
    # Longest exclusion (quarantine), in days from its start; permanent ones only where allowed.
    exclusion_max_days: int = 10 * 365
    exclusion_permanent_allowed: bool = False
    # A person on the exclusion list: False warns the staff who create or invite the member; True refuses.
    exclusion_refuses_membership: bool = False
    # Shortest door PIN a member may set (4-8 digits; 6 makes guessing 100 times harder, docs/door.md).
    pin_min_length: int = 4
    # Wrong PINs a door tablet may see in a (local) day before its PIN pad locks until staff
    # unlock it or the next day: bounds a guesser's chance per tablet and day (docs/door.md).
    pin_device_daily_failures: int = 20

    @classmethod
    def from_settings(cls, data: dict | None) -> ChainPolicy:
        data = {k: v for k, v in (data or {}).items() if k not in RETIRED_KEYS} if isinstance(data, dict) else data
        return cls(**validate_policy(data))


# The audit trigger (justface migration 0004) refuses to delete entries younger than this.
AUDIT_MIN_DAYS = 365
# Keys of earlier versions that are ignored when read (a migration removed them from every chain).
RETIRED_KEYS = frozenset({"bookkeeping_retention_days"})


def validate_policy(data: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Chain settings must be a JSON object.")
    known = {f.name: f for f in fields(ChainPolicy)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValidationError(f"Unknown chain setting(s): {', '.join(unknown)}.")
    for name, value in data.items():
        expected = bool if known[name].type == "bool" else int
        if type(value) is not expected:
            raise ValidationError(
                f"Chain setting {name} must be {'true or false' if expected is bool else 'a whole number'}."
            )
        if expected is int and value < 0:
            raise ValidationError(f"Chain setting {name} cannot be negative.")
    if "pin_min_length" in data and not 4 <= data["pin_min_length"] <= 8:
        raise ValidationError("Chain setting pin_min_length must be between 4 and 8.")
    if "audit_retention_days" in data and data["audit_retention_days"] < AUDIT_MIN_DAYS:
        raise ValidationError(f"Chain setting audit_retention_days must be at least {AUDIT_MIN_DAYS} (one year).")
    if data.get("pin_device_daily_failures") == 0:
        raise ValidationError("Chain setting pin_device_daily_failures must be at least 1.")
    return data


def default_key(name: str) -> str:
    """A policy key with its default, as the retention table names it: `key` (value)."""
    return policy_key(name, ChainPolicy())

"""Writes that matter for members: each is one auditable entry point used by views, API, admin
actions, commands and jobs alike."""
from __future__ import annotations

import re

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from justface import audit
from members.models import Member

_PIN = re.compile(r"^\d{4,8}$")


def validate_pin(pin: str) -> None:
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise ValidationError("The PIN must be 4 to 8 digits.", code="pin_format")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise ValidationError("That PIN is too easy to guess; avoid repeated or consecutive digits.", code="pin_weak")


def set_pin(*, member: Member, pin: str, actor=None) -> None:
    """Set or change the door PIN: hashed like a password, whatever the member's face consent."""
    validate_pin(pin)
    member.pin_hash = make_password(pin)
    member.pin_set_at = timezone.now()
    member.save(update_fields=["pin_hash", "pin_set_at"])
    audit.record(action="member.pin_set", actor=actor, obj=member)


def pin_matches(*, member: Member, pin: str) -> bool:
    # check_password on an empty hash still runs the hasher, so a member without a PIN takes as long.
    return check_password(pin, member.pin_hash or None)

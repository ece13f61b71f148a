"""A member's PIN: its rules, setting and erasing it, and checking one (the door's PIN pad)."""

from __future__ import annotations

import re

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, check_password, make_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from justface import audit
from members.models import Member

# ASCII digits only: \d would also take "١٢٣٤" (Arabic-Indic) and other scripts' digits, which
# no PIN pad can type. \Z, not $: "1234\n" is not a PIN. The door's serializer uses this too.
PIN_PATTERN = r"^[0-9]{4,8}\Z"
_PIN = re.compile(PIN_PATTERN)


def validate_pin(pin: str, *, min_length: int = 4) -> None:
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise ValidationError(_("The PIN must be 4 to 8 digits."), code="pin_format")
    if len(pin) < min_length:
        # The chain's policy (pin_min_length): longer PINs are what bounds guessing at the door.
        raise ValidationError(_("The PIN must be at least %(n)d digits.") % {"n": min_length}, code="pin_too_short")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise ValidationError(
            _("That PIN is too easy to guess; avoid repeated or consecutive digits."), code="pin_weak"
        )


def set_pin(*, member: Member, pin: str, actor=None) -> None:
    """Set or change the door PIN: hashed like a password, whatever the member's face consent."""
    validate_pin(pin, min_length=member.chain.policy.pin_min_length)
    member.pin_hash = make_password(pin)
    member.pin_set_at = timezone.now()
    member.save(update_fields=["pin_hash", "pin_set_at"])
    audit.record(action="member.pin_set", actor=actor, obj=member)


def erase_pin(*, member: Member, actor, reason: str) -> bool:
    """Delete the door PIN's hash (the membership has ended: members.personal_data, activity "pin")."""
    if not Member.objects.filter(pk=member.pk).exclude(pin_hash="").update(pin_hash="", pin_set_at=None):
        return False
    member.pin_hash, member.pin_set_at = "", None
    audit.record(action="member.pin_erase", actor=actor, obj=member, reason=reason)
    return True


def pin_matches(*, member: Member | None, pin: str) -> bool:
    """Whether `pin` is the member's PIN. No member, or no PIN set: False, after the hasher has
    run all the same, so a PIN pad cannot tell which member numbers exist by timing."""
    encoded = member.pin_hash if member is not None and member.pin_hash else UNUSABLE_PASSWORD_PREFIX
    return check_password(pin, encoded)


# Invitation and login ----------------------------------------------------------------------

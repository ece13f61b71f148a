import pytest
from django.core.exceptions import ValidationError

from justface.models import AuditEntry
from members.services import pin_matches, set_pin
from tests.conftest import make_member


@pytest.mark.parametrize(
    "pin, code",
    [
        ("123", "pin_format"),
        ("123456789", "pin_format"),
        ("12a4", "pin_format"),
        ("0000", "pin_weak"),
        ("1234", "pin_weak"),
        ("98765", "pin_weak"),
    ],
)
def test_bad_pins_are_refused_with_a_reason(world, pin, code):
    member = make_member(world.chain_a, world.centre_a1)
    with pytest.raises(ValidationError) as raised:
        set_pin(member=member, pin=pin)
    assert raised.value.code == code
    member.refresh_from_db()
    assert member.pin_hash == ""


def test_pin_is_hashed_and_checked(world):
    member = make_member(world.chain_a, world.centre_a1)
    set_pin(member=member, pin="4071", actor=None)
    member.refresh_from_db()
    assert "4071" not in member.pin_hash and member.pin_set_at
    assert pin_matches(member=member, pin="4071") and not pin_matches(member=member, pin="4072")
    assert AuditEntry.objects.filter(action="member.pin_set", object_id=str(member.pk)).exists()


def test_no_pin_or_no_member_never_matches(world):
    member = make_member(world.chain_a, world.centre_a1)
    assert pin_matches(member=member, pin="4071") is False
    assert pin_matches(member=None, pin="4071") is False


@pytest.mark.parametrize("pin", ["١٢٣٤٥", "４７１１", "४७११", "1234\n", "47１1"])
def test_only_ascii_digits_make_a_pin(world, pin):
    """\\d took Arabic-Indic, full-width and Devanagari digits (found by an outside probe); no pad types them."""
    member = make_member(world.chain_a, world.centre_a1)
    with pytest.raises(ValidationError) as raised:
        set_pin(member=member, pin=pin)
    assert raised.value.code == "pin_format"


def test_the_chain_sets_the_shortest_pin(world):
    from django.core.exceptions import ValidationError as DjangoValidationError

    from members.policy import validate_policy

    member = make_member(world.chain_a, world.centre_a1)
    world.chain_a.settings = {"pin_min_length": 6}
    world.chain_a.save()
    member.refresh_from_db()
    with pytest.raises(DjangoValidationError) as refused:
        set_pin(member=member, pin="4711", actor=None)
    assert refused.value.code == "pin_too_short"
    set_pin(member=member, pin="471139", actor=None)
    for bad in ({"pin_min_length": 3}, {"pin_min_length": 9}, {"pin_device_daily_failures": 0}):
        with pytest.raises(DjangoValidationError):
            validate_policy(bad)

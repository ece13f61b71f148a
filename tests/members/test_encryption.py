"""Personal data at rest: ciphertext in the tables, exact look-ups through keyed hashes, and
key rotation that keeps old rows readable until they are re-encrypted."""

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import CommandError, call_command
from django.db import connection
from encrypted_model_fields import fields as encrypted_fields

from members.models import Member
from members.selectors import search_members
from tests.conftest import make_member

PERSONAL = ("first_name", "last_name", "email", "phone", "address", "member_number", "birth_date")


def raw_row(member) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(PERSONAL)} FROM members_member WHERE id = %s", [member.pk])
        return dict(zip(PERSONAL, cursor.fetchone()))


def test_raw_sql_shows_no_plaintext(world):
    member = make_member(
        world.chain_a,
        world.centre_a1,
        first_name="Ingeborg",
        last_name="Kvalheim",
        email="ingeborg@example.no",
        phone="+47 912 34 567",
        member_number="N-4711",
    )
    row = raw_row(member)
    for name in PERSONAL:
        stored = str(row[name])
        assert stored.startswith("gAAAAA"), f"{name} is not a Fernet token"
        assert str(getattr(member, name)) not in stored
    fresh = Member.objects.get(pk=member.pk)
    assert (fresh.first_name, fresh.email, str(fresh.birth_date)) == ("Ingeborg", "ingeborg@example.no", "1990-05-17")


@pytest.mark.parametrize(
    "term",
    [
        "ingeborg@example.no",
        "  INGEBORG@Example.NO ",
        "+47 912 34 567",
        "004791234567",
        "+4791234567",
        "N-4711",
        "n-4711",
        "Ingeborg",
        "kvalheim",
        "KVALHEIM ingeborg",
    ],
)
def test_exact_lookups_through_keyed_hashes(world, term):
    target = make_member(
        world.chain_a,
        world.centre_a1,
        first_name="Ingeborg",
        last_name="Kvalheim",
        email="ingeborg@example.no",
        phone="+47 912 34 567",
        member_number="N-4711",
    )
    make_member(world.chain_a, world.centre_a1, first_name="Ingrid", last_name="Kvale")
    assert list(search_members(Member.objects.all(), term)) == [target]


def test_name_search_folds_accents_and_needs_whole_words(world):
    target = make_member(world.chain_a, world.centre_a1, first_name="Søren", last_name="Ærø-Åkesson")
    everyone = Member.objects.all()
    assert list(search_members(everyone, "soren")) == [target]
    assert list(search_members(everyone, "SØREN aero")) == [target]
    assert list(search_members(everyone, "akesson")) == [target]
    assert list(search_members(everyone, "sør")) == []  # no partial words: see README
    assert list(search_members(everyone, "soren jensen")) == []


def test_hashes_follow_changes(world):
    member = make_member(world.chain_a, world.centre_a1, email="old@example.com")
    member.email = "new@example.com"
    member.save(update_fields=["email"])
    assert list(search_members(Member.objects.all(), "new@example.com")) == [member]
    assert list(search_members(Member.objects.all(), "old@example.com")) == []


def test_member_number_is_unique_per_chain_only(world):
    make_member(world.chain_a, world.centre_a1, member_number="X1")
    make_member(world.chain_b, world.centre_b1, member_number="X1")
    duplicate = Member(
        chain=world.chain_a, home_centre=world.centre_a1, member_number=" x1 ", first_name="A", last_name="B"
    )
    with pytest.raises(Exception, match="Another member of this chain has that number"):
        duplicate.full_clean()


@pytest.fixture
def field_keys(settings):
    """Switch the configured keys for a test; the library keeps its crypter at module level."""
    original = encrypted_fields.CRYPTER

    def use(*keys: bytes):
        settings.FIELD_ENCRYPTION_KEY = [k.decode() for k in keys]
        encrypted_fields.CRYPTER = MultiFernet([Fernet(k) for k in keys])

    yield use
    encrypted_fields.CRYPTER = original


def test_key_rotation(world, field_keys):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    field_keys(old)
    member = make_member(world.chain_a, world.centre_a1, first_name="Rotated")
    token_before = raw_row(member)["first_name"]

    field_keys(new, old)  # the new key first: old rows stay readable
    assert Member.objects.get(pk=member.pk).first_name == "Rotated"
    call_command("rotate_field_keys")
    token_after = raw_row(member)["first_name"]
    assert token_after != token_before
    assert Fernet(new).decrypt(token_after.encode()) == b"Rotated"

    field_keys(new)  # the old key can now be dropped
    assert Member.objects.get(pk=member.pk).first_name == "Rotated"


def test_rotation_without_the_old_key_changes_nothing(world, field_keys):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    field_keys(old)
    member = make_member(world.chain_a, world.centre_a1)
    before = raw_row(member)
    field_keys(new)
    with pytest.raises(CommandError, match="cannot be decrypted with any configured key"):
        call_command("rotate_field_keys")
    assert raw_row(member) == before

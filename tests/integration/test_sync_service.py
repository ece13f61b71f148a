"""The row-level member upsert behind the integration API and the bulk import:
integration.sync.upsert_member / upsert_members."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from integration.models import MemberChange
from integration.sync import MAX_ROWS, upsert_member, upsert_members
from justface.models import AuditEntry
from members.models import Exclusion, Member, phone_hash
from members.services import create_exclusion
from tests.conftest import make_member

BODY = {
    "first_name": "Sofie",
    "last_name": "Holm",
    "birth_date": "1991-02-03",
    "email": "sofie@example.com",
    "phone": "+45 20 20 20 20",
    "home_centre": "a1",
    "membership_type": "Basic",
    "start_date": "2026-01-01",
    "status": "active",
}


def _audits(**filters):
    return AuditEntry.objects.filter(**filters)


def test_create_then_same_body_is_unchanged_with_one_audit_entry(world):
    first = upsert_member(chain=world.chain_a, external_id="EXT-1", data=BODY, actor=None)
    assert first.outcome == "created" and first.member_id
    member = Member.objects.get(pk=first.member_id)
    assert (member.member_number, member.first_name, member.home_centre) == ("EXT-1", "Sofie", world.centre_a1)
    assert member.birth_date == date(1991, 2, 3) and member.email == "sofie@example.com"
    second = upsert_member(chain=world.chain_a, external_id="EXT-1", data=BODY, actor=None)
    assert second.outcome == "unchanged" and second.member_id == member.pk
    writes = _audits(object_type="members.member", object_id=str(member.pk), action__in=["member.add", "member.change"])
    assert writes.count() == 1


def test_update_names_changed_fields_and_audits_them(world):
    upsert_member(chain=world.chain_a, external_id="EXT-2", data=BODY, actor=None)
    outcome = upsert_member(
        chain=world.chain_a, external_id="ext-2 ", data={"last_name": "Holm-Berg", "home_centre": "a2"}, actor=None
    )
    assert outcome.outcome == "updated" and outcome.changed == ["last_name", "home_centre"]
    member = Member.objects.get(pk=outcome.member_id)
    assert member.last_name == "Holm-Berg" and member.home_centre == world.centre_a2
    assert member.first_name == "Sofie"  # fields left out stay as they are
    entry = _audits(action="member.change", object_id=str(member.pk)).get()
    assert "last_name" in entry.reason and "Holm" not in entry.reason  # field names, never values
    # The look-up hashes follow the new values, as Member.save() keeps them.
    assert Member.objects.filter(pk=member.pk).values_list("name_index", flat=True)[0] == member.name_index


@pytest.mark.parametrize(
    "data, field",
    [
        ({**BODY, "home_centre": "b1"}, "home_centre"),  # another chain's centre
        ({**BODY, "birth_date": "03.02.1991"}, "birth_date"),
        ({**BODY, "email": "not-an-address"}, "email"),
        ({**BODY, "status": "sleeping"}, "status"),
        ({**BODY, "end_date": "2025-12-31"}, "end_date"),  # before the start
        ({**BODY, "first_name": 42}, "first_name"),
        ({**BODY, "first_name": "x" * 101}, "first_name"),
        ({**BODY, "favourite_colour": "blue"}, "favourite_colour"),
        ({k: v for k, v in BODY.items() if k != "last_name"}, "last_name"),
    ],
)
def test_bad_fields_are_answered_with_field_and_message_and_write_nothing(world, data, field):
    outcome = upsert_member(chain=world.chain_a, external_id="EXT-3", data=data, actor=None)
    assert (outcome.outcome, outcome.field) == ("error", field) and outcome.message
    assert not Member.objects.filter(chain=world.chain_a).exists()


@pytest.mark.parametrize("external_id", ["", "   ", "a/b", "x" * 33, None, 12])
def test_bad_external_ids_are_refused(world, external_id):
    outcome = upsert_member(chain=world.chain_a, external_id=external_id, data=BODY, actor=None)
    assert (outcome.outcome, outcome.field) == ("error", "external_id")


def test_bulk_with_mixed_rows_writes_every_good_row_and_answers_each(world):
    existing = make_member(world.chain_a, world.centre_a1, member_number="OLD-1", first_name="Ole")
    rows = [
        ("NEW-1", BODY),
        ("NEW-2", {**BODY, "birth_date": "not a date"}),
        ("OLD-1", {"first_name": "Ole"}),
        ("OLD-1", {"first_name": "Twice"}),
        ("NEW-3", {**BODY, "email": "new3@example.com", "home_centre": "nowhere"}),
        ("NEW-4", {**BODY, "email": "new4@example.com", "status": "ended"}),
        ("OLD-1", {"membership_type": "Premium"}),
    ]
    rows[3] = ("old-1", {"first_name": "Twice"})
    outcomes = upsert_members(chain=world.chain_a, rows=rows, actor=None)
    assert [o.outcome for o in outcomes] == ["created", "error", "unchanged", "error", "error", "created", "error"]
    assert outcomes[1].field == "birth_date" and outcomes[4].field == "home_centre"
    assert outcomes[3].field == "external_id"  # the same member twice in one request
    numbers = set(Member.objects.filter(chain=world.chain_a).values_list("member_number_hash", flat=True))
    assert len(numbers) == 3
    existing.refresh_from_db()
    assert existing.first_name == "Ole" and existing.membership_type == ""


def test_bulk_of_many_rows_uses_few_queries(world, django_assert_max_num_queries):
    # Batched, not one query per row (SQLite's variable limit makes its batches smaller).
    rows = [(f"N{n:05d}", {**BODY, "email": f"n{n}@example.com", "phone": ""}) for n in range(600)]
    with django_assert_max_num_queries(80):
        outcomes = upsert_members(chain=world.chain_a, rows=rows, actor=None)
    assert {o.outcome for o in outcomes} == {"created"}
    rows = [(external_id, {**data, "membership_type": "Gold"}) for external_id, data in rows]
    with django_assert_max_num_queries(80):
        outcomes = upsert_members(chain=world.chain_a, rows=rows, actor=None)
    assert {o.outcome for o in outcomes} == {"updated"}
    assert Member.objects.filter(chain=world.chain_a, membership_type="Gold").count() == 600


def test_too_many_rows_are_refused_whole(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        upsert_members(chain=world.chain_a, rows=[("X", {})] * (MAX_ROWS + 1), actor=None)


def test_another_chain_is_never_touched(world):
    theirs = make_member(world.chain_b, world.centre_b1, member_number="SAME-1", first_name="Berit")
    outcome = upsert_member(chain=world.chain_a, external_id="SAME-1", data=BODY, actor=None)
    assert outcome.outcome == "created" and outcome.member_id != theirs.pk
    theirs.refresh_from_db()
    assert theirs.first_name == "Berit" and theirs.chain == world.chain_b


def _exclude(world, *, refuse: bool):
    chain = world.chain_a
    chain.settings = {**chain.settings, "exclusion_refuses_membership": refuse}
    chain.save()
    return create_exclusion(
        chain=chain,
        actor=None,
        full_name="Sofie Holm",
        category=Exclusion.Category.VIOLENCE,
        starts_on=timezone.localdate() - timedelta(days=1),
        ends_on=timezone.localdate() + timedelta(days=30),
        email="SOFIE@example.com",
    )


def test_exclusion_list_warns_per_row_where_the_chain_warns(world):
    exclusion = _exclude(world, refuse=False)
    outcomes = upsert_members(chain=world.chain_a, rows=[("E-1", BODY), ("E-2", {**BODY, "email": ""})], actor=None)
    assert [o.outcome for o in outcomes] == ["created", "created"]
    assert f"#{exclusion.pk}" in outcomes[0].warning and not outcomes[1].warning
    assert _audits(action="exclusion.match", object_id=str(exclusion.pk)).count() == 1


def test_exclusion_list_refuses_per_row_where_the_chain_refuses(world):
    exclusion = _exclude(world, refuse=True)
    outcomes = upsert_members(chain=world.chain_a, rows=[("E-1", BODY), ("E-2", {**BODY, "email": ""})], actor=None)
    assert [o.outcome for o in outcomes] == ["error", "created"]
    assert f"#{exclusion.pk}" in outcomes[0].message
    assert Member.objects.filter(chain=world.chain_a).count() == 1
    assert _audits(action="exclusion.match", object_id=str(exclusion.pk)).count() == 1


def test_an_update_is_not_checked_against_the_exclusion_list(world):
    upsert_member(chain=world.chain_a, external_id="E-1", data=BODY, actor=None)
    _exclude(world, refuse=True)
    outcome = upsert_member(chain=world.chain_a, external_id="E-1", data={"membership_type": "Gold"}, actor=None)
    assert outcome.outcome == "updated"


def test_every_write_marks_the_member_feed(world):
    created = upsert_member(chain=world.chain_a, external_id="F-1", data=BODY, actor=None)
    change = MemberChange.objects.get(member_id=created.member_id)
    assert change.chain_id == world.chain_a.pk and change.seq is None
    MemberChange.objects.filter(pk=change.pk).update(seq=7)
    upsert_member(chain=world.chain_a, external_id="F-1", data=BODY, actor=None)
    assert MemberChange.objects.get(pk=change.pk).seq == 7  # unchanged: no new mark
    upsert_member(chain=world.chain_a, external_id="F-1", data={"first_name": "Sif"}, actor=None)
    assert MemberChange.objects.get(pk=change.pk).seq is None


def test_an_update_writes_only_the_fields_it_changes(world):
    """A staff edit of another field between the read and the write is not overwritten."""
    from integration import sync

    upsert_member(chain=world.chain_a, external_id="RACE-1", data=BODY, actor=None)
    plan = sync._plan(chain=world.chain_a, rows=[("RACE-1", {"phone": "+45 99 99 99 99"})])
    member = Member.objects.get(member_number_hash=plan.updates[0][1].member_number_hash)
    member.first_name = "Staff-Edit"
    member.save()  # meanwhile, in the admin
    sync._write(plan, actor=None, how="test")
    member.refresh_from_db()
    assert (member.first_name, member.phone) == ("Staff-Edit", "+45 99 99 99 99")
    assert member.phone_hash == phone_hash("+45 99 99 99 99")
    stored = member.name_index
    member.refresh_lookup_hashes()
    assert stored == member.name_index  # the name search still finds the staff's edit

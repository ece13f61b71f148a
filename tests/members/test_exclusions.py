"""The exclusion list: the admin (managers keep it, the DPO reads, scoped,
audited, encrypted text), the check when a member is created or invited (keyed hashes of e-mail,
phone, name + birth date: a warning, or a refusal where the chain says so), the chain's maximum
duration, and the purge at the end."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from justface.models import AuditEntry
from members import services
from members.models import Exclusion, Member
from retention.jobs import purge_due
from tests.conftest import make_member
from tests.permissions import assert_matrix

TODAY = timezone.localdate()


def exclude(world, **extra) -> Exclusion:
    data = dict(
        chain=world.chain_a,
        actor=world.user("manager_a"),
        full_name="Bo Banned",
        category="violence",
        reason="Qzsecret hit another member",
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=365),
        member_number="OLD-1",
        email="bo@example.com",
        phone="+45 11 22 33 44",
        birth_date=date(1980, 2, 3),
    )
    data.update(extra)
    return services.create_exclusion(**data)


def test_an_exclusion_keeps_hashes_not_values_and_encrypts_the_text(world):
    exclusion = exclude(world)
    assert exclusion.email_hash and exclusion.phone_hash and exclusion.name_birth_hash
    with connection.cursor() as cursor:
        # Every stored column as the database holds it (portable: no PostgreSQL row-to-text cast).
        cursor.execute("SELECT * FROM members_exclusion WHERE id = %s", [exclusion.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "Qzsecret" not in row and "bo@example.com" not in row and "1980" not in row and "Banned" not in row
    assert AuditEntry.objects.filter(action="exclusion.add", object_id=str(exclusion.pk)).exists()


@pytest.mark.parametrize(
    "field,value",
    [("email", "BO@example.com"), ("phone", "+4511223344"), ("member_number", "old-1"), ("name_birth", None)],
)
def test_creating_or_inviting_a_matching_person_warns(world, field, value, settings):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    exclusion = exclude(world)
    details = dict(
        email="someone@example.com",
        phone="+45 99 99 99 99",
        first_name="Other",
        last_name="Person",
        birth_date=date(1990, 1, 1),
    )
    if field == "name_birth":
        details.update(first_name="bo", last_name="BANNED", birth_date=date(1980, 2, 3))
    elif field == "member_number":
        details["member_number"] = value
    else:
        details[field] = value
    member = make_member(world.chain_a, world.centre_a1, **details)
    assert services.check_exclusions(member=member, actor=None, when="create") == [exclusion]
    invitation = services.invite_member(member=member, actor=world.user("manager_a"))
    assert invitation.exclusion_matches == [exclusion]
    assert "exclusion list" in services.exclusion_warning(invitation.exclusion_matches)
    assert AuditEntry.objects.filter(action="exclusion.match", object_id=str(exclusion.pk)).count() == 2


def test_no_match_elsewhere_or_after_the_end(world):
    exclude(world, ends_on=TODAY - timedelta(days=1), starts_on=TODAY - timedelta(days=30))
    other_chain = make_member(world.chain_b, world.centre_b1, email="bo@example.com")
    same_chain = make_member(world.chain_a, world.centre_a1, email="bo@example.com")
    exclude(
        world, chain=world.chain_b, email="x@example.com", phone="", member_number="", actor=world.user("manager_b")
    )
    assert services.check_exclusions(member=same_chain, actor=None, when="create") == []  # ended yesterday
    assert services.check_exclusions(member=other_chain, actor=None, when="create") == []


def test_the_chain_can_refuse_the_membership(world, settings):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    world.chain_a.settings = {"exclusion_refuses_membership": True}
    world.chain_a.save()
    exclude(world)
    member = make_member(world.chain_a, world.centre_a1, email="bo@example.com")
    with pytest.raises(ValidationError, match="refuses a membership"):
        services.invite_member(member=member, actor=world.user("manager_a"))


def test_the_admin_refuses_or_warns_when_a_member_is_added(world, login):
    exclude(world)
    form = {
        "chain": world.chain_a.pk,
        "home_centre": world.centre_a1.pk,
        "member_number": "NEW-9",
        "status": "active",
        "start_date": TODAY.isoformat(),
        "first_name": "Bo",
        "last_name": "Banned",
        "birth_date": "1980-02-03",
        "gender": "unspecified",
        "email": "new@example.com",
        "phone": "",
        "address": "",
        "membership_type": "",
        "guardian_name": "",
        "guardian_email": "",
    }
    client = login("frontdesk_a")
    response = client.post("/admin/members/member/add/", form, follow=True)
    assert response.status_code == 200 and "matches the exclusion list" in response.content.decode()
    assert Member.objects.filter(member_number_hash__isnull=False).count() == 1
    world.chain_a.settings = {"exclusion_refuses_membership": True}
    world.chain_a.save()
    form["member_number"] = "NEW-10"
    response = client.post("/admin/members/member/add/", form)
    assert response.status_code == 200 and "refuses a membership" in response.content.decode()
    assert Member.objects.count() == 1


def test_the_chain_limits_the_duration(world):
    with pytest.raises(ValidationError, match="at most 3650 days"):
        exclude(world, ends_on=TODAY + timedelta(days=3651))
    exclude(world, ends_on=TODAY + timedelta(days=3650))
    with pytest.raises(ValidationError, match="permanent"):
        exclude(world, ends_on=None)
    world.chain_a.settings = {"exclusion_permanent_allowed": True}
    world.chain_a.save()
    assert exclude(world, ends_on=None).ends_on is None


@pytest.mark.parametrize("offset,kept", [(-1, True), (0, True), (1, False)])
def test_the_purge_at_the_end_and_at_the_maximum(world, offset, kept):
    ended = Exclusion.objects.create(
        chain=world.chain_a,
        full_name="X",
        member_number="E1",
        starts_on=TODAY - timedelta(days=100),
        ends_on=TODAY - timedelta(days=offset),
    )
    world.chain_b.settings = {"exclusion_max_days": 30}
    world.chain_b.save()
    # Chain B lowered its maximum: an older, longer quarantine goes 30 days after it started.
    capped = Exclusion.objects.create(
        chain=world.chain_b,
        full_name="Y",
        member_number="E2",
        starts_on=TODAY - timedelta(days=30 + offset),
        ends_on=TODAY + timedelta(days=300),
    )
    permanent = Exclusion.objects.create(
        chain=world.chain_b, full_name="Z", member_number="E3", starts_on=TODAY - timedelta(days=30 + offset)
    )
    purge_due()
    assert Exclusion.objects.filter(pk=ended.pk).exists() is kept
    assert Exclusion.objects.filter(pk=capped.pk).exists() is kept
    assert Exclusion.objects.filter(pk=permanent.pk).exists() is kept  # chain B allows no permanent ones


def test_admin_matrix_scoped_and_audited(world, login):
    mine = exclude(world)
    exclude(world, chain=world.chain_b, actor=world.user("manager_b"), member_number="B-1")
    url = "/admin/members/exclusion/"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 200, "anonymous": 302}
    )
    assert (
        responses["manager_a"].context["cl"].result_count == 1
        and responses["manager_b"].context["cl"].result_count == 1
    )
    assert_matrix(
        login,
        "get",
        f"{url}{mine.pk}/change/",
        {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 302, "anonymous": 302},
    )
    assert AuditEntry.objects.filter(action="exclusion.list", chain_id=world.chain_a.pk).count() == 2
    assert AuditEntry.objects.filter(action="exclusion.view", object_id=str(mine.pk)).count() == 2
    # the DPO reads, only a manager adds
    assert_matrix(
        login,
        "get",
        f"{url}add/",
        {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 403, "manager_b": 200, "anonymous": 302},
    )


def test_a_manager_adds_one_in_the_admin(world, login):
    member = make_member(world.chain_a, world.centre_a1, email="m@example.com")
    client = login("manager_a")
    response = client.post(
        "/admin/members/exclusion/add/",
        {
            "member": member.pk,
            "member_number": "",
            "full_name": "",
            "category": "theft_damage",
            "reason": "Took a bag",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=3651)).isoformat(),
            "letter": "",
        },
    )
    assert response.status_code == 200 and "at most 3650 days" in response.content.decode()
    response = client.post(
        "/admin/members/exclusion/add/",
        {
            "member": member.pk,
            "member_number": "",
            "full_name": "",
            "category": "theft_damage",
            "reason": "Took a bag",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=90)).isoformat(),
            "letter": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    exclusion = Exclusion.objects.get()
    assert exclusion.chain_id == world.chain_a.pk and exclusion.member_number == member.member_number
    assert exclusion.full_name == member.full_name and exclusion.email_hash == member.email_hash
    assert exclusion.created_by == world.user("manager_a")
    # another chain's member cannot be chosen
    other = make_member(world.chain_b, world.centre_b1)
    response = client.post(
        "/admin/members/exclusion/add/",
        {"member": other.pk, "category": "other", "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()},
    )
    assert response.status_code == 200 and Exclusion.objects.count() == 1

"""Erasure by the chain's retention policy and by a member's request: templates and photos the
day after a membership ends, the whole member after the check-in period, ended exclusions; and
an erasure request carried out from its page in the admin."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.utils import timezone

from access.models import AccessEvent
from consent.models import ConsentRecord
from justface.face_runtime import get_engine
from justface.models import AuditEntry, User
from members.faces import store_face_template
from members.models import DataSubjectRequest, Exclusion, FaceTemplate, Member
from members.services import file_data_subject_request
from retention.jobs import purge_due
from retention.services import erase_member
from tests.conftest import make_member
from tests.consent.test_enrollment import consent_to_face_scan
from tests.permissions import assert_matrix

TODAY = date(2026, 6, 15)
NOON = timezone.make_aware(timezone.datetime(2026, 6, 15, 12, 0))


def with_template(member: Member) -> Member:
    engine = get_engine()
    vector = np.random.default_rng(member.pk).standard_normal(engine.dim).astype(np.float32)
    store_face_template(
        member=member, template=vector / np.linalg.norm(vector), model_name=engine.model, photo=None, actor=None
    )
    return member


def ended(world, days_ago: int | None, **extra) -> Member:
    end = TODAY - timedelta(days=days_ago) if days_ago is not None else None
    return make_member(world.chain_a, world.centre_a1, status=Member.Status.ENDED, end_date=end, **extra)


def test_templates_go_the_day_after_the_membership_ends(world):
    ended_yesterday = with_template(ended(world, 1))
    ends_today = with_template(make_member(world.chain_a, world.centre_a1, end_date=TODAY))
    active = with_template(make_member(world.chain_a, world.centre_a1))
    report = purge_due(at=NOON)
    assert report["jobs_done"] == 1 and report["jobs_failed"] == 0
    assert set(FaceTemplate.objects.values_list("member_id", flat=True)) == {ends_today.pk, active.pk}
    assert Member.objects.filter(pk=ended_yesterday.pk).exists()  # only the biometrics went
    assert AuditEntry.objects.filter(
        action="face.erase", object_id=str(ended_yesterday.pk), reason="membership ended"
    ).exists()
    assert purge_due(at=NOON)["jobs_done"] == 0  # nothing twice


def test_the_chain_decides_how_long_templates_outlive_the_membership(world):
    world.chain_a.settings = {"biometric_retention_days": 7}
    world.chain_a.save()
    recent, older = with_template(ended(world, 5)), with_template(ended(world, 8))
    purge_due(at=NOON)
    assert set(FaceTemplate.objects.values_list("member_id", flat=True)) == {recent.pk}
    assert older.pk not in FaceTemplate.objects.values_list("member_id", flat=True)


def test_members_go_after_the_check_in_period(world):
    world.chain_b.settings = {"checkins_retention_days": 180}
    world.chain_b.save()
    long_gone = ended(world, 3 * 365 + 1)
    recent = ended(world, 3 * 365 - 1)
    beta_gone = make_member(
        world.chain_b, world.centre_b1, status=Member.Status.ENDED, end_date=TODAY - timedelta(days=181)
    )
    AccessEvent.objects.create(centre=world.centre_a1, member=long_gone, method="pin", decision="granted", reason="ok")
    purge_due(at=NOON)
    assert set(Member.objects.values_list("pk", flat=True)) >= {recent.pk}
    assert not Member.objects.filter(pk__in=[long_gone.pk, beta_gone.pk]).exists()
    assert AccessEvent.objects.get().member is None  # the check-in stays, anonymous


def test_ended_exclusions_go_and_permanent_ones_stay(world):
    common = dict(
        chain=world.chain_a,
        member_number="X9",
        full_name="Someone",
        reason="Damage",
        starts_on=TODAY - timedelta(days=400),
    )
    over = Exclusion.objects.create(ends_on=TODAY - timedelta(days=1), **common)
    permanent = Exclusion.objects.create(ends_on=None, **common)
    running = Exclusion.objects.create(ends_on=TODAY + timedelta(days=1), **common)
    purge_due(at=NOON)
    assert set(Exclusion.objects.values_list("pk", flat=True)) == {permanent.pk, running.pk}
    assert not Exclusion.objects.filter(pk=over.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_erase_member_leaves_nothing_personal(world, django_user_model):
    member = with_template(make_member(world.chain_a, world.centre_a1))
    member.user = django_user_model.objects.create_user("member-x", password="x")
    member.save()
    consent_to_face_scan(member)
    AccessEvent.objects.create(centre=world.centre_a1, member=member, method="face", decision="granted", reason="ok")
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)

    receipt = erase_member(member=member, actor=world.user("manager_a"), reason="test")
    assert receipt["face_templates"] == 1 and receipt["check_ins_anonymised"] == 1 and receipt["login_deleted"]
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not FaceTemplate.objects.exists() and not ConsentRecord.objects.exists()
    assert not User.objects.filter(username="member-x").exists()
    assert AccessEvent.objects.get().member_id is None
    dsr.refresh_from_db()
    assert dsr.member_id is None  # the request stays as proof
    assert AuditEntry.objects.filter(action="member.erase", object_id=str(member.pk)).exists()


def test_staff_carry_out_an_erasure_request(world, login):
    member = make_member(world.chain_a, world.centre_a1)
    other = make_member(world.chain_b, world.centre_b1)
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    file_data_subject_request(member=other, kind="erasure", actor=None)
    erase = f"/admin/members/datasubjectrequest/{dsr.pk}/erase/"  # the erase step of the request's own page
    assert_matrix(
        login, "get", erase, {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 404, "anonymous": 302}
    )

    # Chain B cannot erase chain A's member, even by posting the id.
    assert login("manager_b").post(erase, {"confirmed": "yes"}).status_code == 404
    assert Member.objects.filter(pk=member.pk).exists()

    dpo = login("dpo_a")
    confirm = dpo.get(erase)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Member.objects.filter(pk=member.pk).exists()  # nothing yet
    done = dpo.post(erase, {"confirmed": "yes"}, follow=True)
    assert "The account is erased" in done.content.decode()
    assert not Member.objects.filter(pk=member.pk).exists()
    dsr.refresh_from_db()
    # The answer is in the chain's language (Danish here), dated, and was e-mailed before the erasure.
    assert dsr.status == DataSubjectRequest.Status.DONE and f"{timezone.localdate():%Y-%m-%d}" in dsr.response
    assert "personoplysninger blev slettet" in dsr.response
    assert dsr.member_id is None and dsr.outcome_sent_at

"""ScopedAdmin's audit of staff reads: every admin of personal data records its list and detail
pages, with the chain and without the search term."""

from __future__ import annotations

import pytest

from consent.models import ConsentRecord
from justface.models import AuditEntry
from members.models import DataSubjectRequest
from members.services import file_data_subject_request
from tests.conftest import make_member
from tests.consent.test_enrollment import consent_to_face_scan


def consent_record(member):
    consent_to_face_scan(member)
    return ConsentRecord.objects.get(member=member)


def erasure_request(member):
    return file_data_subject_request(member=member, kind="erasure", actor=None)


def objection(member):
    return file_data_subject_request(
        member=member, kind="objection", objection_to=DataSubjectRequest.Objection.values[0], actor=None
    )


@pytest.mark.parametrize(
    ("path", "make", "prefix"),
    [
        ("consent/consentrecord", consent_record, "consentrecord"),
        ("members/datasubjectrequest", erasure_request, "dsr"),  # an erasure request's page, with its erasure step
        ("members/datasubjectrequest", objection, "dsr"),
    ],
)
def test_personal_data_pages_are_audited(world, login, path, make, prefix):
    obj = make(make_member(world.chain_a, world.centre_a1))
    dpo = login("dpo_a")
    assert dpo.get(f"/admin/{path}/", {"q": "Astrid"}).status_code == 200
    assert dpo.get(f"/admin/{path}/{obj.pk}/change/").status_code == 200
    dpo_id = world.user("dpo_a").pk
    entries = list(
        AuditEntry.objects.filter(actor_id=dpo_id)
        .order_by("at")
        .values_list("action", "actor_id", "object_id", "chain_id", "reason")
    )
    assert entries == [
        (f"{prefix}.list", dpo_id, "", world.chain_a.pk, "admin list"),
        (f"{prefix}.view", dpo_id, str(obj.pk), world.chain_a.pk, "admin detail"),
    ]


def test_a_page_refused_is_not_recorded_as_read(world, login):
    dsr = erasure_request(make_member(world.chain_a, world.centre_a1))
    before = AuditEntry.objects.count()
    assert login("manager_b").get(f"/admin/members/datasubjectrequest/{dsr.pk}/change/").status_code in (302, 404)
    assert login("manager_b").get(f"/admin/members/datasubjectrequest/{dsr.pk}/erase/").status_code == 404
    assert login("frontdesk_a").get("/admin/members/datasubjectrequest/").status_code == 403
    assert login("frontdesk_a").get(f"/admin/members/datasubjectrequest/{dsr.pk}/erase/").status_code == 403
    assert AuditEntry.objects.count() == before
    assert DataSubjectRequest.objects.filter(pk=dsr.pk).exists()

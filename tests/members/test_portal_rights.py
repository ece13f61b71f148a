"""The member's rights in self-service: everything held (with purposes and retention), the
portability ZIP, and erasure/objection requests in a staff queue with the 30-day deadline."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access.models import AccessEvent
from consent.enrollment import enroll_face
from justface.models import AuditEntry
from members.models import DataSubjectRequest
from tests.conftest import CLOCK_DEFAULT, MONTH_ENDS, face_photo, make_member
from tests.permissions import assert_matrix
from tests.portal_helpers import (  # noqa: F401
    commit,
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,
    sign,
    site_url,
)

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")


@pytest.fixture
def member(world, client, private_root):  # noqa: F811
    world.chain_a.settings = {"keep_member_photo": True, "checkins_retention_days": 180}
    world.chain_a.save()
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1, first_name="Freja", last_name="Lund")
    AccessEvent.objects.create(centre=world.centre_a1, member=member, method="pin", decision="granted", reason="ok")
    client.force_login(member.user)
    return member


def test_access_page_lists_everything_with_purpose_and_retention(member, client):
    sign(member)
    page = client.get(reverse("portal:my-data")).content.decode()
    for text in [
        "Freja",
        member.member_number,
        "Your consents",
        "Your check-ins",
        "Face template and photo",
        "Door PIN",
        "Legal basis",
        "180 days after the membership ends",
        "explicit consent",
        "Alpha One",
        "192.0.2.7",
    ]:
        assert text in page, text


def test_export_zip_holds_profile_consents_checkins_status_and_photo(member, client):
    sign(member)
    assert enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=member.user).ok
    response = client.get(reverse("portal:export"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "index.json",
        "profile.json",
        "consents.json",
        "checkins.json",
        "face.json",
        "pin.json",
        "requests.json",
    } <= names
    assert json.loads(archive.read("profile.json"))["first_name"] == "Freja"
    consents = json.loads(archive.read("consents.json"))
    assert consents[0]["action"] == "sign" and len(consents[0]["text_sha256"]) == 64
    assert json.loads(archive.read("checkins.json"))[0]["centre"] == "Alpha One"
    assert json.loads(archive.read("face.json"))[0]["photo_kept"] is True
    assert json.loads(archive.read("pin.json")) == {"pin_set": False, "pin_set_at": None}
    assert archive.read("photos/face-1.jpg") == face_photo("Colin_Powell", 1)
    index = json.loads(archive.read("index.json"))
    assert all(c["purpose"] and c["legal_basis"] and c["retention"] for c in index["categories"])
    assert AuditEntry.objects.filter(action="member.export_self", object_id=str(member.pk)).exists()


@pytest.mark.parametrize(
    "clock,due",
    [
        (CLOCK_DEFAULT, date(2027, 1, 5)),  # 31 days: a calendar month, not 30 days
        (MONTH_ENDS[0], date(2027, 2, 28)),
        (MONTH_ENDS[1], date(2028, 2, 29)),
        (MONTH_ENDS[2], date(2027, 4, 30)),
        (MONTH_ENDS[3], date(2028, 1, 31)),
    ],
    indirect=["clock"],
    ids=["5dec", "31jan", "31jan-leap", "31mar", "31dec"],
)
def test_file_requests_and_see_their_status(clock, due, member, client, commit):
    with commit():
        response = client.post(reverse("portal:requests"), {"what": "erasure", "message": "Please delete me."})
    assert response.status_code == 302
    dsr = DataSubjectRequest.objects.get(member=member)
    assert dsr.kind == "erasure" and dsr.status == "received" and dsr.chain == member.chain
    # The same time of day, one calendar month on (the last day of a shorter month).
    assert dsr.due_at.date() == due and dsr.due_at.time() == dsr.received_at.time()
    assert mail.outbox[-1].to == ["dpo@alpha.example"] and "Freja" not in mail.outbox[-1].body
    again = client.post(reverse("portal:requests"), {"what": "erasure"})
    assert again.status_code == 200 and b"already have an open request" in again.content
    assert client.post(reverse("portal:requests"), {"what": "objection:statistics"}).status_code == 302
    assert client.post(reverse("portal:requests"), {"what": "objection:everything"}).status_code == 200
    page = client.get(reverse("portal:requests")).content.decode()
    assert "Received" in page and "Use of my check-ins in statistics" in page


def test_staff_queue_with_deadline_is_scoped(clock, member, world, login):
    other_chain_member = make_member(world.chain_b, world.centre_b1)
    from members.services import file_data_subject_request

    dsr = file_data_subject_request(member=member, kind="erasure", actor=member.user)
    file_data_subject_request(member=other_chain_member, kind="objection", objection_to="marketing", actor=None)
    changelist = reverse("admin:members_datasubjectrequest_changelist")
    responses = assert_matrix(
        login,
        "get",
        changelist,
        {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 200, "anonymous": 302},
    )
    assert (
        responses["manager_a"].context["cl"].result_count == 1
        and responses["manager_b"].context["cl"].result_count == 1
    )
    assert b">30<" in responses["manager_a"].content  # days left: filed 5 December, due 5 January
    change = reverse("admin:members_datasubjectrequest_change", args=[dsr.pk])
    assert_matrix(
        login, "get", change, {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 302, "anonymous": 302}
    )
    assert login("frontdesk_a").post(change, {"status": "done", "response": "x"}).status_code == 403
    assert login("manager_b").post(change, {"status": "done", "response": "x"}).status_code in (302, 403)
    dsr.refresh_from_db()
    assert dsr.status == "received"
    # The DPO answers data-subject requests, the one thing they change.
    assert login("dpo_a").post(change, {"status": "in_progress", "response": "We are on it."}).status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == "in_progress" and dsr.handled_by == world.user("dpo_a")
    # An erasure is not "done" by saying so: the erasure on the same page completes it.
    response = login("manager_a").post(
        change, {"status": "done", "response": "Your account was erased.", "_save": "Save"}, follow=True
    )
    page = response.content.decode()
    assert "completed by the erasure itself" in page and "changed successfully" not in page
    assert response.redirect_chain[-1][0] == change  # back on the request's own page
    dsr.refresh_from_db()
    assert dsr.status == "in_progress"
    response = login("manager_a").post(
        change, {"status": "refused", "response": "We must keep it: unpaid fees.", "send_email": "on"}
    )
    assert response.status_code == 302
    dsr.refresh_from_db()
    assert (
        dsr.status == "refused"
        and dsr.resolved_at
        and dsr.handled_by == world.user("manager_a")
        and dsr.outcome_sent_at
    )
    assert AuditEntry.objects.filter(action="dsr.update", object_id=str(dsr.pk)).exists()


def test_overdue_requests_show_in_the_queue(member, login):
    from members.services import file_data_subject_request

    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(due_at=timezone.now() - timedelta(days=2, hours=1))
    assert b"OVERDUE" in login("dpo_a").get(reverse("admin:members_datasubjectrequest_changelist")).content

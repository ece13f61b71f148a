"""The requests desk: every kind and channel, for a member or an unidentified
person; one calendar month to answer, extendable by two with the reason e-mailed; the outcome
e-mailed (for an erasure before the address goes); a failed e-mail leaves the request open with
the failure shown; restriction and objections take effect at once; the desk's lists."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from access.models import AccessEvent, HourlyStat
from justface.models import AuditEntry
from members import selectors, services
from members.models import DataSubjectRequest, Member, add_months
from members.services import carry_out_erasure_request
from tests.access.conftest import colin, private_root, tablet_a  # noqa: F401 (door fixtures)
from tests.conftest import face_photo, make_member
from tests.permissions import assert_matrix

DSR = DataSubjectRequest


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.mark.parametrize(
    "received,due",
    [
        ((2027, 1, 31, 10), (2027, 2, 28, 10)),
        ((2028, 1, 31, 10), (2028, 2, 29, 10)),
        ((2027, 3, 15, 9), (2027, 4, 15, 9)),
        ((2027, 12, 31, 23), (2028, 1, 31, 23)),
    ],
)
def test_one_calendar_month(received, due):
    assert add_months(aware(*received), 1) == aware(*due)


def record(world, kind="access", **extra) -> DataSubjectRequest:
    data = dict(chain=world.chain_a, kind=kind, channel="email", actor=world.user("dpo_a"))
    data.update(extra)
    return services.record_data_subject_request(**data)


@pytest.mark.parametrize("kind", [k for k in DSR.Kind.values])
@pytest.mark.parametrize("channel", ["email", "letter", "desk", "phone"])
def test_every_kind_by_every_channel_is_recorded_and_due_in_a_month(
    world, kind, channel, django_capture_on_commit_callbacks
):
    member = make_member(world.chain_a, world.centre_a1)
    received = timezone.now() - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        dsr = record(
            world,
            kind=kind,
            channel=channel,
            member=member,
            received_at=received,
            identity_checked=True,
            identity_note="passport seen at the desk",
            objection_to="marketing" if kind == "objection" else "",
        )
    assert dsr.due_at == add_months(received, 1) and dsr.status == DSR.Status.RECEIVED
    assert mail.outbox[-1].to == ["dpo@alpha.example"]
    assert AuditEntry.objects.filter(
        action="dsr.file", object_id=str(dsr.pk), reason__endswith=f"via {channel}"
    ).exists()


def test_an_unidentified_person_can_ask(world):
    dsr = record(world, requester_name="Someone Unknown", requester_email="who@example.com", channel="letter")
    assert dsr.member is None and dsr.answer_to == "who@example.com" and not dsr.identity_checked
    with pytest.raises(ValidationError, match="Name the member"):
        record(world)
    with pytest.raises(ValidationError, match="future"):
        record(world, requester_name="X", received_at=timezone.now() + timedelta(days=1))
    with pytest.raises(ValidationError, match="another chain"):
        record(world, member=make_member(world.chain_b, world.centre_b1))


def test_the_outcome_is_e_mailed_and_closes_the_request(world):
    member = make_member(world.chain_a, world.centre_a1, email="anne@example.com")
    dsr = record(world, kind="rectification", member=member)
    mail.outbox.clear()
    services.close_data_subject_request(
        request=dsr, status=DSR.Status.DONE, response="Your address is corrected.", actor=world.user("dpo_a")
    )
    dsr.refresh_from_db()
    assert dsr.status == DSR.Status.DONE and dsr.outcome_sent_at and not dsr.email_error
    assert mail.outbox[0].to == ["anne@example.com"] and "Your address is corrected." in mail.outbox[0].body
    assert "Din anmodning" in mail.outbox[0].body


def test_a_failed_e_mail_leaves_the_request_open_with_the_failure_shown(world, settings, login):
    member = make_member(world.chain_a, world.centre_a1)
    dsr = record(world, kind="access", member=member)
    settings.EMAIL_BACKEND = "tests.members.test_requests_desk.FailingBackend"
    with pytest.raises(ValidationError, match="could not be sent"):
        services.close_data_subject_request(request=dsr, status=DSR.Status.DONE, response="Here it is.", actor=None)
    dsr.refresh_from_db()
    assert dsr.is_open and dsr.resolved_at is None and "ConnectionRefusedError" in dsr.email_error
    page = login("manager_a").get("/admin/members/datasubjectrequest/")
    assert "FAILED: " in page.content.decode()
    # the extension too: nothing extended when its reason could not be sent
    due = dsr.due_at
    with pytest.raises(ValidationError):
        services.extend_deadline(request=dsr, months=1, reason="Many records to collect.", actor=None)
    dsr.refresh_from_db()
    assert dsr.due_at == due


def test_an_extension_of_at_most_two_months_with_the_reason_sent(world):
    dsr = record(world, requester_name="P", requester_email="p@example.com", received_at=aware(2026, 11, 1, 9))
    with pytest.raises(ValidationError, match="reason"):
        services.extend_deadline(request=dsr, months=1, reason=" ", actor=None)
    with pytest.raises(ValidationError, match="at most two months"):
        services.extend_deadline(request=dsr, months=3, reason="x", actor=None)
    mail.outbox.clear()
    services.extend_deadline(request=dsr, months=1, reason="Many records to collect.", actor=None)
    assert dsr.due_at == aware(2027, 1, 1, 9) and "Many records to collect." in mail.outbox[0].body
    services.extend_deadline(request=dsr, months=1, reason="Still collecting.", actor=None)
    assert dsr.due_at == aware(2027, 2, 1, 9)
    with pytest.raises(ValidationError, match="at most two months"):
        services.extend_deadline(request=dsr, months=1, reason="More.", actor=None)


def test_an_erasure_confirmation_goes_before_the_address(world, settings):
    member = make_member(world.chain_a, world.centre_a1, email="gone@example.com")
    dsr = record(world, kind="erasure", member=member)
    settings.EMAIL_BACKEND = "tests.members.test_requests_desk.FailingBackend"
    with pytest.raises(ValidationError):
        carry_out_erasure_request(request=dsr, actor=world.user("dpo_a"))
    assert Member.objects.filter(pk=member.pk).exists()  # nothing erased
    dsr.refresh_from_db()
    assert dsr.is_open and dsr.email_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    receipt = carry_out_erasure_request(request=dsr, actor=world.user("dpo_a"))
    assert receipt["confirmation_sent"] and mail.outbox[0].to == ["gone@example.com"]
    dsr.refresh_from_db()
    assert not Member.objects.filter(pk=member.pk).exists()
    assert dsr.status == DSR.Status.DONE and dsr.outcome_sent_at and dsr.member is None
    assert (dsr.requester_email, dsr.identity_note, dsr.message) == ("", "", "")  # nothing that names them is kept


def test_an_objection_has_its_effect_at_once(world):
    member = make_member(world.chain_a, world.centre_a1)
    assert selectors.may_receive_marketing(member) and selectors.counted_in_statistics(member)
    record(world, kind="objection", objection_to="marketing", member=member)
    member.refresh_from_db()
    assert not selectors.may_receive_marketing(member) and selectors.counted_in_statistics(member)
    record(world, kind="objection", objection_to="statistics", member=member)
    member.refresh_from_db()
    assert not selectors.counted_in_statistics(member)
    AccessEvent.objects.create(centre=world.centre_a1, member=member, method="pin", decision="granted", reason="ok")
    from access.stats import count_event

    count_event(AccessEvent.objects.get())
    assert not HourlyStat.objects.exists()  # not counted


def test_a_restriction_pauses_face_entry_until_lifted(world, tablet_a, colin):
    from tests.access.test_scans import decided

    dsr = record(world, kind="restriction", member=colin, message="my address is wrong: check it first")
    colin.refresh_from_db()
    assert colin.restricted_since and selectors.face_entry_paused(colin) == "restricted"
    assert not selectors.may_receive_marketing(colin) and not selectors.counted_in_statistics(colin)
    body = decided(tablet_a.scan(face_photo("Colin_Powell", 2)), "denied", "face_paused")
    assert "PIN" in body["message"] and AccessEvent.objects.get().member is None  # the face names nobody
    decided(tablet_a.pin(colin.member_number, "4711"))  # the PIN still works
    mail.outbox.clear()
    services.lift_restriction(member=colin, actor=world.user("manager_a"))
    assert mail.outbox[0].to == [colin.email]
    decided(tablet_a.scan(face_photo("Colin_Powell", 3)))  # face entry works again
    assert dsr.pk


def test_the_desk_pages(world, login):
    member = make_member(world.chain_a, world.centre_a1)
    overdue = record(world, member=member, received_at=timezone.now() - timedelta(days=40))
    this_week = record(
        world, kind="portability", member=member, received_at=add_months(timezone.now(), -1) + timedelta(days=3)
    )
    later = record(world, kind="rectification", requester_name="Q")
    closed = record(world, kind="objection", objection_to="marketing", requester_name="R")
    services.close_data_subject_request(request=closed, status="refused", response="No.", actor=None, send_email=False)
    record(world, chain=world.chain_b, requester_name="B", actor=world.user("manager_b"))
    url = "/admin/members/datasubjectrequest/"

    def ids(response):
        return {r.pk for r in response.context["cl"].result_list}

    r = assert_matrix(
        login,
        "get",
        url + "?due=overdue",
        {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 200, "anonymous": 302},
    )
    assert ids(r["dpo_a"]) == {overdue.pk} and len(ids(r["manager_b"])) == 0
    assert ids(login("dpo_a").get(url + "?due=week")) == {this_week.pk}
    assert ids(login("dpo_a").get(url + "?due=closed")) == {closed.pk}
    assert ids(login("dpo_a").get(url + "?due=open")) == {overdue.pk, this_week.pk, later.pk}
    assert_matrix(
        login,
        "get",
        f"{url}add/",
        {"manager_a": 200, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 200, "anonymous": 302},
    )


def test_recording_and_closing_in_the_admin(world, login):
    member = make_member(world.chain_a, world.centre_a1, email="m@example.com")
    client = login("dpo_a")
    now = timezone.localtime()
    response = client.post(
        "/admin/members/datasubjectrequest/add/",
        {
            "member": member.pk,
            "requester_name": "",
            "requester_email": "",
            "kind": "access",
            "objection_to": "",
            "channel": "letter",
            "received_at_0": now.strftime("%Y-%m-%d"),
            "received_at_1": now.strftime("%H:%M:%S"),
            "identity_checked": "on",
            "identity_note": "signature compared",
            "message": "Send me my data",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    dsr = DSR.objects.get()
    assert dsr.channel == "letter" and dsr.member == member and dsr.identity_checked
    mail.outbox.clear()
    response = client.post(
        f"/admin/members/datasubjectrequest/{dsr.pk}/change/",
        {
            "status": "done",
            "response": "The file is attached to this answer.",
            "send_email": "on",
            "extend_by_months": "",
            "extension_reason_text": "",
        },
    )
    assert response.status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == "done" and mail.outbox[0].to == ["m@example.com"]
    # another chain's member cannot be chosen
    response = login("manager_b").post(
        "/admin/members/datasubjectrequest/add/",
        {
            "member": member.pk,
            "kind": "access",
            "channel": "email",
            "received_at_0": now.strftime("%Y-%m-%d"),
            "received_at_1": now.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200 and DSR.objects.count() == 1


def test_a_refused_step_on_the_page_returns_to_the_request_and_keeps_the_failure(world, settings, login):
    """The page's step answers for itself: a failed outcome e-mail or an erasure closed by hand
    goes back to the request with the message on top (never "changed successfully"), and the
    e-mail failure the service noted stays."""
    member = make_member(world.chain_a, world.centre_a1, email="m@example.com")
    client = login("dpo_a")
    page = f"/admin/members/datasubjectrequest/{record(world, kind='access', member=member).pk}/change/"
    settings.EMAIL_BACKEND = "tests.members.test_requests_desk.FailingBackend"
    response = client.post(page, {"status": "done", "response": "Here it is.", "send_email": "on"}, follow=True)
    assert response.redirect_chain == [(page, 302)]
    shown = response.content.decode()
    assert "could not be sent" in shown and "was changed successfully" not in shown
    dsr = DSR.objects.get(kind="access")
    assert dsr.is_open and "ConnectionRefusedError" in dsr.email_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    erasure = record(world, kind="erasure", member=member)
    page = f"/admin/members/datasubjectrequest/{erasure.pk}/change/"
    response = client.post(page, {"status": "done", "response": "Erased.", "send_email": "on"}, follow=True)
    assert response.redirect_chain == [(page, 302)]
    assert "completed by the erasure itself" in response.content.decode()
    erasure.refresh_from_db()
    assert erasure.is_open and Member.objects.filter(pk=member.pk).exists()

    # a step that is taken: "changed successfully", back to the list
    response = client.post(page, {"status": "in_progress", "response": ""}, follow=True)
    assert response.redirect_chain[0] == ("/admin/members/datasubjectrequest/", 302)
    erasure.refresh_from_db()
    assert erasure.status == "in_progress"

"""One admin screen for a request from receipt to done: the request's own page shows
its life in order (received, deadline, answer and outcome e-mail) and, for an erasure request,
the erasure: a button, a confirmation page whose POST (with its CSRF token) runs
members.services.carry_out_erasure_request, then the receipt's counts and status done. Scoped
to the chain, for those who may answer requests; a failed e-mail erases nothing; never a 500."""

from __future__ import annotations

import re
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from access.models import AccessEvent
from justface.models import AuditEntry
from justface.personal_data import receipt_labels
from members import services as member_services
from members.admin.requests import receipt_lines
from members.models import DataSubjectRequest, Member
from members.services import carry_out_erasure_request, file_data_subject_request, receipt_counts
from retention.services import erase_member_by_operator
from tests.conftest import make_member
from tests.consent.test_enrollment import consent_to_face_scan
from tests.permissions import assert_matrix

DSR = DataSubjectRequest
FAILING = "tests.members.test_requests_desk.FailingBackend"  # an SMTP server that refuses


def page_url(dsr) -> str:
    return f"/admin/members/datasubjectrequest/{dsr.pk}/change/"


def erase_url(dsr) -> str:
    return f"/admin/members/datasubjectrequest/{dsr.pk}/erase/"


def by_letter(world, member, **extra) -> DataSubjectRequest:
    """An erasure request received by letter: the identity is not checked yet."""
    return member_services.record_data_subject_request(
        chain=world.chain_a, member=member, kind="erasure", channel="letter", actor=world.user("manager_a"), **extra
    )


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="[^"]*heading" class="fieldset-heading">([^<]+)</h2>', html)


def test_an_erasure_request_from_receipt_to_done_on_its_own_page(world, login):
    member = make_member(world.chain_a, world.centre_a1, email="leaving@example.com")
    consent_to_face_scan(member)
    AccessEvent.objects.create(centre=world.centre_a1, member=member, method="face", decision="granted", reason="ok")
    dsr = by_letter(world, member, message="Please erase everything.")
    client = login("manager_a")

    page = client.get(page_url(dsr)).content.decode()
    assert headings(page) == ["Received", "Deadline", "Answer and outcome e-mail", "Erasure"]
    assert (
        member.member_number in page and "id_confirm_identity" in page
    )  # identity not checked yet: the step is offered
    assert "to %s at the latest" % f"{timezone.localtime(dsr.latest_allowed_due()):%Y-%m-%d}" in page
    assert "e-mails the confirmation to leaving@example.com before anything is erased" in page
    assert f'href="{erase_url(dsr)}"' in page

    # Steps recorded on the same page: the identity check, progress.
    response = client.post(
        page_url(dsr),
        {
            "confirm_identity": "on",
            "identity_note_text": "Passport seen at the desk",
            "status": "in_progress",
            "response": "We are on it.",
            "send_email": "on",
            "extend_by_months": "",
            "extension_reason_text": "",
            "_continue": "1",
        },
        follow=True,
    )
    assert "The identity check is recorded." in response.content.decode()
    dsr.refresh_from_db()
    assert (
        dsr.identity_checked
        and dsr.identity_note == "Passport seen at the desk"
        and dsr.status == DSR.Status.IN_PROGRESS
    )
    assert AuditEntry.objects.filter(
        action="dsr.identity", object_id=str(dsr.pk), actor_id=world.user("manager_a").pk
    ).exists()
    assert "id_confirm_identity" not in response.content.decode()

    confirm = client.get(erase_url(dsr))
    text = confirm.content.decode()
    assert confirm.status_code == 200 and "cannot be undone" in text and member.member_number in text
    assert "leaving@example.com" in text and 'name="csrfmiddlewaretoken"' in text
    assert "erasure-identity" not in text  # checked now: no warning
    assert Member.objects.filter(pk=member.pk).exists() and not mail.outbox  # a GET erases nothing

    done = client.post(erase_url(dsr), {"confirmed": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == page_url(dsr)
    html = done.content.decode()
    assert "The account is erased and the request is answered" in html
    assert not Member.objects.filter(pk=member.pk).exists()
    assert [m.to for m in mail.outbox] == [["leaving@example.com"]]
    dsr.refresh_from_db()
    assert dsr.status == DSR.Status.DONE and dsr.member_id is None and dsr.outcome_sent_at
    assert dsr.erasure_receipt["consent_records_deleted"] == 1 and dsr.erasure_receipt["check_ins_anonymised"] == 1
    assert dsr.erasure_receipt["confirmation_sent"] is True and "member_id" not in dsr.erasure_receipt
    # The page now ends with the receipt, and the status reads done.
    assert 'id="erasure-receipt"' in html and '<th scope="row">Consent records</th><td>1</td>' in html
    assert "Completed" in html and f'href="{erase_url(dsr)}"' not in html
    assert AuditEntry.objects.filter(action="member.erase", reason=f"erasure request {dsr.pk}").exists()


def test_who_may_erase(world, login):
    dsr = file_data_subject_request(member=make_member(world.chain_a, world.centre_a1), kind="erasure", actor=None)
    assert_matrix(
        login,
        "get",
        erase_url(dsr),
        {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 404, "anonymous": 302},
    )
    # Posting the confirmation changes nothing for those who may not.
    assert_matrix(
        login,
        "post",
        erase_url(dsr),
        {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 404, "anonymous": 302},
        data={"confirmed": "no"},
    )  # not confirmed: asked again
    for outsider in ("frontdesk_a", "manager_b", "anonymous"):
        login(outsider).post(erase_url(dsr), {"confirmed": "yes"})
    dsr.refresh_from_db()
    assert dsr.is_open and dsr.member_id is not None
    # Another chain's staff see nothing of the request, on the page or in the list.
    b = login("manager_b")
    assert b.get(page_url(dsr)).status_code == 302
    assert b.get("/admin/members/datasubjectrequest/?kind__exact=erasure").context["cl"].result_count == 0
    # The operator may, like the chain's manager and DPO.
    assert login_operator(world).post(erase_url(dsr), {"confirmed": "yes"}).status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == DSR.Status.DONE


def login_operator(world) -> Client:
    client = Client()
    client.force_login(world.user("operator"))
    return client


def test_the_erasure_takes_a_post_with_the_csrf_token(world):
    member = make_member(world.chain_a, world.centre_a1)
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("manager_a"))
    assert client.get(erase_url(dsr), {"confirmed": "yes"}).status_code == 200  # a GET only asks
    assert client.post(erase_url(dsr), {"confirmed": "yes"}).status_code == 403  # no token
    assert Member.objects.filter(pk=member.pk).exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(erase_url(dsr)).content.decode()).group(
        1
    )
    assert client.post(erase_url(dsr), {"confirmed": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert not Member.objects.filter(pk=member.pk).exists()


def test_a_failed_e_mail_erases_nothing_and_the_page_says_so(world, login, settings):
    member = make_member(world.chain_a, world.centre_a1, email="still-here@example.com")
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    settings.EMAIL_BACKEND = FAILING
    response = login("dpo_a").post(erase_url(dsr), {"confirmed": "yes"}, follow=True)
    html = response.content.decode()
    assert (
        response.status_code == 200
        and "Nothing was erased: The e-mail could not be sent (ConnectionRefusedError)" in html
    )
    assert Member.objects.filter(pk=member.pk).exists()
    dsr.refresh_from_db()
    assert dsr.is_open and "ConnectionRefusedError" in dsr.email_error and not dsr.erasure_receipt
    assert "FAILED: The e-mail could not be sent" in html and "The request stays open" in html
    assert f'href="{erase_url(dsr)}"' in html  # it can be tried again
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    login("dpo_a").post(erase_url(dsr), {"confirmed": "yes"})
    dsr.refresh_from_db()
    assert dsr.status == DSR.Status.DONE and not dsr.email_error


def test_a_second_click_erases_and_e_mails_once(world, login):
    dsr = file_data_subject_request(member=make_member(world.chain_a, world.centre_a1), kind="erasure", actor=None)
    client = login("manager_a")
    client.post(erase_url(dsr), {"confirmed": "yes"})
    again = client.post(erase_url(dsr), {"confirmed": "yes"}, follow=True)
    assert again.status_code == 200
    assert "Nothing was erased: Only an open erasure request can be carried out." in again.content.decode()
    assert len(mail.outbox) == 1 and AuditEntry.objects.filter(action="member.erase").count() == 1
    # The confirmation page is not offered again either.
    back = client.get(erase_url(dsr), follow=True)
    assert back.redirect_chain[-1][0] == page_url(dsr) and "Only an open erasure request" in back.content.decode()


def test_requests_the_button_is_not_for(world, login):
    member = make_member(world.chain_a, world.centre_a1)
    objection = file_data_subject_request(member=member, kind="objection", objection_to="marketing", actor=None)
    refused = by_letter(world, member)
    member_services.close_data_subject_request(
        request=refused, status="refused", response="We must keep it.", actor=None, send_email=False
    )
    gone = file_data_subject_request(member=make_member(world.chain_a, world.centre_a1), kind="erasure", actor=None)
    erase_member_by_operator(member=gone.member, reason="ticket 12")  # answers it, with the receipt
    lost = by_letter(world, make_member(world.chain_a, world.centre_a1))
    DSR.objects.filter(pk=lost.pk).update(member=None)  # erased by the retention schedule meanwhile
    client = login("manager_a")

    assert "Erasure" not in headings(client.get(page_url(objection)).content.decode())
    for dsr in (objection, refused, gone, lost):
        response = client.post(erase_url(dsr), {"confirmed": "yes"}, follow=True)
        assert response.status_code == 200 and "Nothing was erased" in response.content.decode(), dsr.kind
    assert "Refused: nothing was erased." in client.get(page_url(refused)).content.decode()
    lost_page = client.get(page_url(lost)).content.decode()
    assert "This member has already been erased." in lost_page and "erase-account" not in lost_page
    # The operator's erasure answered its request with the same receipt the page shows.
    gone_page = client.get(page_url(gone)).content.decode()
    assert 'id="erasure-receipt"' in gone_page and '<th scope="row">Portal login deleted</th>' in gone_page


def test_completed_is_not_chosen_but_done_by_the_erasure(world, login):
    member = make_member(world.chain_a, world.centre_a1)
    dsr = by_letter(world, member)
    response = login("manager_a").post(
        page_url(dsr), {"status": "done", "response": "Erased.", "send_email": "on", "_save": "Save"}, follow=True
    )
    assert "completed by the erasure itself" in response.content.decode()
    dsr.refresh_from_db()
    assert dsr.is_open and Member.objects.filter(pk=member.pk).exists()


def test_a_refused_step_says_so_without_changed_successfully(world, login):
    dsr = by_letter(world, make_member(world.chain_a, world.centre_a1))
    response = login("manager_a").post(
        page_url(dsr),
        {"confirm_identity": "on", "identity_note_text": " ", "status": "received", "response": "", "_save": "Save"},
        follow=True,
    )
    html = response.content.decode()
    assert "Say how the identity was checked." in html and "changed successfully" not in html
    assert response.redirect_chain[-1][0] == page_url(dsr)
    dsr.refresh_from_db()
    assert not dsr.identity_checked


def test_the_confirmation_warns_of_an_unchecked_identity_and_a_missing_address(world, login):
    member = make_member(world.chain_a, world.centre_a1, email="")
    dsr = by_letter(world, member)
    text = login("dpo_a").get(erase_url(dsr)).content.decode()
    assert 'id="erasure-identity"' in text and "There is no e-mail address" in text
    assert AuditEntry.objects.filter(action="dsr.view", object_id=str(dsr.pk), reason="erasure confirmation").exists()


def test_the_receipt_names_every_category_it_counts(world):
    """A new category in erase_member's receipt must get its label here, or the page would show a raw key."""
    member = make_member(world.chain_a, world.centre_a1)
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    receipt = carry_out_erasure_request(request=dsr, actor=None)
    kept = receipt_counts(receipt=receipt)
    assert set(kept) == set(receipt_labels())
    assert [label for label, _value in receipt_lines(kept)] == [str(label) for label in receipt_labels().values()]


@pytest.mark.parametrize(
    "language,words",
    [("da", ["Sletning", "Frist", "Slet denne konto…"]), ("nb", ["Sletting", "Frist", "Slett denne kontoen…"])],
)
def test_the_screen_speaks_the_staff_language(world, login, language, words):
    user = world.user("manager_a")
    user.language = language
    user.save()
    member = make_member(world.chain_a, world.centre_a1)
    dsr = by_letter(world, member)
    client = login("manager_a")
    page = client.get(page_url(dsr)).content.decode()
    for word in words:
        assert word in page
    for english in ("Erasure", "Deadline", "Answer and outcome e-mail", "Erase this account", "The last step"):
        assert english not in page, english
    confirm = client.get(erase_url(dsr)).content.decode()
    assert "cannot be undone" not in confirm and "Yes, erase the account" not in confirm
    client.post(erase_url(dsr), {"confirmed": "yes"})
    done = client.get(page_url(dsr)).content.decode()
    assert "Consent records" not in done and "Samtykkeregistreringer" in done


def test_old_bookmarks_of_the_erasure_queue_land_on_the_requests(world, login):
    dsr = file_data_subject_request(member=make_member(world.chain_a, world.centre_a1), kind="erasure", actor=None)
    client = login("manager_a")
    queue = client.get("/admin/retention/erasurerequest/", follow=True)
    assert queue.redirect_chain[0][0] == "/admin/members/datasubjectrequest/?kind__exact=erasure&due=open"
    assert [r.pk for r in queue.context["cl"].result_list] == [dsr.pk]
    one = client.get(f"/admin/retention/erasurerequest/{dsr.pk}/change/", follow=True)
    assert one.redirect_chain[0][0] == page_url(dsr) and one.status_code == 200
    # The old address still shows another chain's manager nothing of chain A.
    outsider = login("manager_b").get(f"/admin/retention/erasurerequest/{dsr.pk}/change/", follow=True)
    assert outsider.redirect_chain[-1][0] == "/admin/" and dsr.member.member_number not in outsider.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="row locks need PostgreSQL")
def test_an_erasure_under_way_is_not_started_twice(world):
    """Two staff members at once: while one erasure holds the request, the other is told at
    once, and no second e-mail goes out."""
    member = make_member(world.chain_a, world.centre_a1)
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    mail.outbox.clear()  # the DPO's notice of the new request (sent on commit)
    locked, release, outcome = threading.Event(), threading.Event(), []

    def first_staff_member() -> None:
        with transaction.atomic():
            DSR.objects.select_for_update().get(pk=dsr.pk)
            locked.set()
            release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=first_staff_member)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        try:
            carry_out_erasure_request(request=dsr, actor=world.user("dpo_a"))
        except Exception as error:  # noqa: BLE001 (the assertion names what came)
            outcome.append(error)
    finally:
        release.set()
        holder.join()
    assert [getattr(e, "code", type(e).__name__) for e in outcome] == ["busy"]
    assert not mail.outbox and Member.objects.filter(pk=member.pk).exists()
    dsr.refresh_from_db()
    assert dsr.is_open and not AuditEntry.objects.filter(action="member.erase").exists()

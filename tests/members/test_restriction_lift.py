"""Lifting a restriction: on the restriction request's page of the requests desk,
open or answered, managers and the DPO of the chain lift it; the member is told by e-mail first (a
failed e-mail keeps the restriction), the lift is one audit entry, and the page speaks en/da/nb."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation

from justface.models import AuditEntry
from members import selectors, services
from members.models import DataSubjectRequest, Member
from tests.conftest import make_member
from tests.permissions import assert_matrix


@pytest.fixture(autouse=True)
def english_after():
    """Pages asked for in Danish or Norwegian leave that language active in the test's thread:
    back to the default, so that later tests read English messages."""
    yield
    translation.deactivate()


LABEL = "Lift the restriction now"


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def page(dsr) -> str:
    return f"/admin/members/datasubjectrequest/{dsr.pk}/change/"


def restrict(world, member, actor="dpo_a") -> DataSubjectRequest:
    dsr = services.record_data_subject_request(
        chain=world.chain_a, kind="restriction", channel="email", member=member, actor=world.user(actor)
    )
    member.refresh_from_db()
    assert member.restricted_since is not None
    return dsr


OPEN_FORM = {"status": "in_progress", "response": "", "extend_by_months": "", "extension_reason_text": ""}


@pytest.fixture
def restricted(world):
    member = make_member(world.chain_a, world.centre_a1, email="rita@example.com")
    return member, restrict(world, member)


def test_the_request_page_offers_the_lift_to_the_right_roles(world, login, restricted):
    member, dsr = restricted
    responses = assert_matrix(
        login,
        "get",
        page(dsr),
        {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 302, "anonymous": 302},
    )
    html = responses["dpo_a"].content.decode()
    assert LABEL in html and "In force since" in html
    # Another kind of request has no such step.
    access = services.record_data_subject_request(
        chain=world.chain_a, kind="access", channel="email", member=member, actor=world.user("dpo_a")
    )
    assert LABEL not in login("dpo_a").get(page(access)).content.decode()


@pytest.mark.parametrize("who", ["manager_a", "dpo_a"])
def test_lifting_on_an_open_request_tells_the_member_and_is_audited(world, login, restricted, who):
    member, dsr = restricted
    mail.outbox.clear()
    response = login(who).post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"}, follow=True)
    assert response.status_code == 200
    assert "The restriction is lifted; the member was told by e-mail." in response.content.decode()
    member.refresh_from_db()
    assert member.restricted_since is None and selectors.counted_in_statistics(member)
    assert selectors.face_entry_paused(member) is None
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    entry = AuditEntry.objects.get(action="member.restriction_lifted")
    assert entry.actor_id == world.user(who).pk and entry.object_id == str(member.pk)
    assert entry.reason == f"request {dsr.pk}; e-mailed"
    dsr.refresh_from_db()
    assert dsr.status == "in_progress"  # the request's own answer is a step of its own
    page_after = login(who).get(page(dsr)).content.decode()
    assert LABEL not in page_after and "Not in force" in page_after


def test_lifting_after_the_request_was_answered(world, login, restricted):
    member, dsr = restricted
    services.close_data_subject_request(
        request=dsr, status="done", response="Restricted while we check.", actor=None, send_email=False
    )
    assert LABEL in login("manager_a").get(page(dsr)).content.decode()
    response = login("manager_a").post(page(dsr), {"lift_restriction_now": "on"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.restricted_since is None
    dsr.refresh_from_db()
    assert dsr.status == "done" and dsr.response == "Restricted while we check."


def test_a_failed_e_mail_keeps_the_restriction(world, login, restricted, settings):
    member, dsr = restricted
    settings.EMAIL_BACKEND = "tests.members.test_restriction_lift.FailingBackend"
    response = login("dpo_a").post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"}, follow=True)
    assert "could not be sent" in response.content.decode()
    member.refresh_from_db()
    assert member.restricted_since is not None
    assert not AuditEntry.objects.filter(action="member.restriction_lifted").exists()


def test_a_member_without_e_mail_is_told_by_letter(world, login):
    member = make_member(world.chain_a, world.centre_a1, email="")
    dsr = restrict(world, member)
    response = login("dpo_a").post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"}, follow=True)
    assert "tell them by letter" in response.content.decode()
    assert Member.objects.get(pk=member.pk).restricted_since is None
    assert AuditEntry.objects.get(action="member.restriction_lifted").reason == f"request {dsr.pk}; no e-mail address"


def test_only_a_restriction_request_lifts_and_only_in_its_chain(world, login, restricted):
    member, dsr = restricted
    other = services.record_data_subject_request(
        chain=world.chain_a, kind="access", channel="email", member=member, actor=world.user("dpo_a")
    )
    assert login("dpo_a").post(page(other), {**OPEN_FORM, "lift_restriction_now": "on"}).status_code == 403
    assert login("frontdesk_a").post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"}).status_code == 403
    login("manager_b").post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"})
    member.refresh_from_db()
    assert member.restricted_since is not None


@pytest.mark.parametrize(
    "language, label, state, done",
    [
        ("da", "Ophæv begrænsningen nu", "I kraft siden", "Begrænsningen er ophævet"),
        ("nb", "Opphev begrensningen nå", "I kraft siden", "Begrensningen er opphevet"),
    ],
)
def test_the_step_in_danish_and_norwegian(world, login, restricted, language, label, state, done):
    member, dsr = restricted
    user = world.user("dpo_a")
    user.language = language
    user.save()
    client = login("dpo_a")
    html = client.get(page(dsr)).content.decode()
    assert label in html and state in html and LABEL not in html
    response = client.post(page(dsr), {**OPEN_FORM, "lift_restriction_now": "on"}, follow=True)
    assert done in response.content.decode()

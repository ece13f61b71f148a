"""An erasure request from receipt to done on its one admin page, in a real headless Chromium: a
manager opens the request received by letter, records the identity check and progress, erases
through the confirmation, and reads the receipt, under the site's Content-Security-Policy."""

from __future__ import annotations

import os

import pytest
from django.core import mail
from playwright.sync_api import expect

from access.models import AccessEvent
from members import services as member_services
from members.models import DataSubjectRequest, Member
from tests.browser.test_member_journey import browser, csp_violations  # noqa: F401 (browser: the fixture)
from tests.conftest import make_member
from tests.consent.test_enrollment import consent_to_face_scan

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser


def test_a_manager_takes_an_erasure_request_to_done_on_one_page(live_server, browser, world):
    member = make_member(world.chain_a, world.centre_a1, email="leaving@example.com")
    consent_to_face_scan(member)
    AccessEvent.objects.create(centre=world.centre_a1, member=member, method="face", decision="granted", reason="ok")
    dsr = member_services.record_data_subject_request(
        chain=world.chain_a,
        member=member,
        kind="erasure",
        channel="letter",
        message="Please erase my account.",
        actor=world.user("manager_a"),
    )
    mail.outbox.clear()  # the DPO's notice of the new request

    page = browser.new_page(locale="en-GB")
    blocked = csp_violations(page)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/members/datasubjectrequest/%3Fkind__exact%3Derasure")
    page.fill("#id_username", "manager_a")
    page.fill("#id_password", "pw-manager_a")
    page.click("input[type=submit]")
    page.click(f"#result_list a[href*='/{dsr.pk}/change/']")

    # The request's life in order, and the identity not yet checked.
    expect(page.locator("h2.fieldset-heading")).to_have_text(
        ["Received", "Deadline", "Answer and outcome e-mail", "Erasure"]
    )
    expect(page.locator(".field-member_number .readonly")).to_have_text(member.member_number)
    expect(page.locator(".field-channel .readonly")).to_have_text("Letter")
    expect(page.locator(".field-outcome_email .readonly")).to_contain_text(
        "leaving@example.com before anything is erased"
    )

    # Steps recorded on the same page.
    page.check("#id_confirm_identity")
    page.fill("#id_identity_note_text", "Passport seen at the desk")
    page.select_option("#id_status", "in_progress")
    page.fill("#id_response", "We are erasing your account.")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("The identity check is recorded.")
    expect(page.locator(".field-identity_note .readonly")).to_have_text("Passport seen at the desk")
    expect(page.locator("#id_confirm_identity")).to_have_count(0)

    # The erasure: a button, a confirmation, then back on the same page with the receipt.
    page.click("#erase-account")
    expect(page.locator("#content-main")).to_contain_text("This cannot be undone.")
    expect(page.locator("#erasure-email")).to_contain_text("leaving@example.com")
    expect(page.locator("#erasure-identity")).to_have_count(0)
    assert Member.objects.filter(pk=member.pk).exists()
    page.click("#confirm-erasure")

    expect(page.locator("ul.messagelist")).to_contain_text("The account is erased and the request is answered")
    assert page.url.endswith(f"/admin/members/datasubjectrequest/{dsr.pk}/change/")
    receipt = page.locator("#erasure-receipt")
    expect(receipt.locator("tr", has_text="Consent records").locator("td")).to_have_text("1")
    expect(receipt.locator("tr", has_text="Check-ins kept without the member").locator("td")).to_have_text("1")
    expect(receipt.locator("tr", has_text="Confirmation e-mailed").locator("td")).to_have_text("yes")
    expect(page.locator(".field-status .readonly")).to_have_text("Completed")
    expect(page.locator(".field-member_number .readonly")).to_have_text("(erased)")
    expect(page.locator("#erase-account")).to_have_count(0)

    assert not Member.objects.filter(pk=member.pk).exists()
    assert [m.to for m in mail.outbox] == [["leaving@example.com"]]
    dsr.refresh_from_db()
    assert dsr.status == DataSubjectRequest.Status.DONE and dsr.erasure_receipt["consent_records_deleted"] == 1
    assert blocked == []
    page.close()

"""The whole member journey in a real browser (headless Debian chromium): invitation link ->
password -> sign the face-scan consent -> upload a selfie -> the door API grants another photo
of the same person -> withdraw in one click -> the same photo is denied, and nothing of the
member's face is left in the database or on disk."""

import os
from pathlib import Path

import pytest
import requests
from django.core import mail
from playwright.sync_api import expect, sync_playwright

from access.services import ensure_door, issue_device_token
from consent.models import ConsentRecord
from members.models import Centre, Chain, FaceTemplate
from members.services import invite_member
from tests.conftest import faces_dir, make_member
from tests.portal_helpers import PASSWORD, link_in_mail, publish_documents

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium (apt-get install chromium).", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:
    """Collects what the Content-Security-Policy refuses on the page (Chromium logs each one)."""
    blocked = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    return blocked


def scan(base_url: str, device_token: str, photo: Path) -> dict:
    with photo.open("rb") as fh:
        response = requests.post(
            f"{base_url}/api/v1/door/scans/",
            headers={"Authorization": f"Device {device_token}"},
            files={"image": (photo.name, fh, "image/jpeg")},
            timeout=60,
        )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_invitation_to_withdrawal(live_server, browser, settings, tmp_path):
    settings.JUSTFACE_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "private"
    chain = Chain.objects.create(
        name="Nordlys Trening",
        slug="nordlys",
        organisation_number="NO933333333",
        country="NO",
        default_language="nb",
        dpo_email="dpo@nordlys.example",
        settings={"keep_member_photo": True},
    )
    centre = Centre.objects.create(
        chain=chain, name="Nordlys Sentrum", slug="sentrum", time_zone="Europe/Oslo", liveness="off"
    )  # open 24/7; liveness has its own browser test
    _token, device = issue_device_token(door=ensure_door(centre=centre, name="Inngang", actor=None), actor=None)
    publish_documents(chain)
    member = make_member(chain, centre, first_name="Ingrid", last_name="Haugen", email="ingrid@example.com")
    invite_member(member=member, actor=None)
    selfie, other_photo = sorted((faces_dir() / "Colin_Powell").iterdir())[:2]

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB")  # a phone
    blocked = csp_violations(page)
    page.goto(live_server.url + link_in_mail("/invitation/", to="ingrid@example.com"))
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Hello, Ingrid")

    page.click("text=Consent to face scan at the door")
    expect(page.locator(".facts")).to_contain_text("Your PIN works instead at every door")
    expect(page.locator("#id_agree")).not_to_be_checked()
    page.fill("#id_typed_name", "Ingrid Haugen")
    page.check("#id_agree")
    page.click("button:has-text('I agree')")
    expect(page.locator(".messages")).to_contain_text("Now add a photo of your face")

    page.set_input_files("#id_photo", str(selfie))
    page.click("button:has-text('Send photo')")
    expect(page.locator(".messages")).to_contain_text("Your face is enrolled")
    expect(page.locator("img.photo")).to_be_visible()

    granted = scan(live_server.url, device, other_photo)
    assert (granted["status"], granted["reason"]) == ("granted", "ok"), granted

    page.click("button:has-text('Withdraw my consent')")
    expect(page.locator("h1")).to_have_text("Your consent is withdrawn")
    expect(page.locator("main")).to_contain_text("1 face template")

    denied = scan(live_server.url, device, other_photo)
    assert denied["status"] == "denied" and denied["reason"] in {"not_recognised", "no_consent"}, denied
    assert not FaceTemplate.objects.filter(member=member).exists()
    assert ConsentRecord.objects.filter(member=member, action="withdraw").count() == 1
    left = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert left == [], f"files left on disk: {left}"

    # The language switcher: the same page in Norwegian.
    page.goto(live_server.url + "/me/")
    page.select_option("#language", "nb")
    expect(page.locator("h1")).to_have_text("Hei, Ingrid")
    assert mail.outbox  # the invitation really went out by e-mail
    assert not blocked, blocked  # the pages work under the Content-Security-Policy, nothing refused

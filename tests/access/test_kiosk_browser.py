"""The kiosk page in a real headless Chromium whose fake camera shows a real face: pairing,
a face scan greeted by first name, the PIN pad, and a revoked token sending it back to pairing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from access import services
from access.models import AccessEvent
from tests.browser.test_member_journey import csp_violations
from tests.conftest import face_photo

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 640, 480


def write_y4m(path: Path, photo: bytes, frames: int = 20) -> Path:
    """A still camera picture as a Y4M video (4:2:0), the format Chromium's fake camera reads."""
    face = Image.open(io.BytesIO(photo)).convert("RGB")
    face = face.resize((HEIGHT * face.width // face.height, HEIGHT))
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(face, ((WIDTH - face.width) // 2, 0))
    ycc = np.asarray(canvas.convert("YCbCr"), dtype=np.float32)
    planes = [ycc[..., 0]] + [ycc[..., c].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3)) for c in (1, 2)]
    frame = b"FRAME\n" + b"".join(np.round(p).astype(np.uint8).tobytes() for p in planes)
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return path


@pytest.fixture
def camera_photo() -> bytes:
    """What the fake camera shows (a test may override this fixture)."""
    return face_photo("Colin_Powell", 2)


@pytest.fixture
def browser(tmp_path, camera_photo):
    from playwright.sync_api import sync_playwright

    video = write_y4m(tmp_path / "camera.y4m", camera_photo)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--headless=new",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        yield chromium
        chromium.close()


def enter_pin(page, member_number: str, pin: str) -> None:
    """Open the PIN pad, type the member number, tap the PIN on the keypad, press OK."""
    page.click("#pin-button")
    page.fill("#member-number", member_number)
    for digit in pin:
        page.click(f"#pin-pad [data-digit='{digit}']")
    page.click("#pin-form button[type=submit]")


def test_kiosk_pairs_greets_by_first_name_and_takes_a_pin(live_server, browser, tablet_a, colin):
    page = browser.new_page()
    blocked = csp_violations(page)
    page.set_default_timeout(90_000)  # the first scan loads the face model in the server
    page.goto(f"{live_server.url}/kiosk/")
    assert page.locator("#pairing").is_visible() and page.locator("#door").is_hidden()
    page.fill("#pair-token", "not-the-token")
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#pair-error:has-text('not accepted')")

    page.fill("#pair-token", tablet_a.token)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#door:visible")
    assert page.locator("#centre").inner_text() == "Alpha One"
    assert page.locator("#pin-button").inner_text() == "Brug PIN-kode i stedet"  # the PIN pad is always offered

    # The fake camera shows Colin standing still: the kiosk sends a frame and greets him.
    page.wait_for_selector("#result.granted:has-text('Velkommen, Colin!')")
    event = AccessEvent.objects.get()
    assert (event.member, event.method, event.direction, event.decision) == (colin, "face", "in", "granted")

    # He leaves with his PIN, typed on the keypad.
    page.click("#leave-button")
    enter_pin(page, colin.member_number, "4711")
    page.wait_for_selector("#result.granted:has-text('Farvel, Colin. Vi ses!')")
    assert page.locator("#pin-pad").is_hidden()
    assert list(AccessEvent.objects.order_by("at").values_list("method", "direction", "decision")) == [
        ("face", "in", "granted"),
        ("pin", "out", "granted"),
    ]

    enter_pin(page, colin.member_number, "1357")
    page.wait_for_selector("#result.denied:has-text('Medlemsnummer eller PIN-kode er forkert')")
    # Only one face scan: Colin stood still, so no frame was sent again.
    assert AccessEvent.objects.filter(method="face").count() == 1

    # The tablet keeps its token; once revoked, it asks to be paired again.
    page.reload()
    # The door shows at once; wait for its heartbeat's answer, or the revocation below could
    # reach that heartbeat and unpair the tablet before the second reload.
    page.wait_for_selector("#door:visible #centre:has-text('Alpha One')")
    services.revoke_device_token(token=tablet_a.device, actor=None)
    page.reload()
    # Wait for the refused heartbeat's message, not for the pairing form, which shows at once.
    page.wait_for_selector("#pairing:visible #pair-error:has-text('no longer valid')")
    assert page.evaluate("localStorage.getItem('justface.door.token')") is None
    assert not blocked, blocked  # the kiosk works under the Content-Security-Policy


def test_kiosk_sends_people_to_the_pin_pad_or_staff_when_the_server_answers_503(live_server, browser, tablet_a):
    """503: the server cannot decide (its database is away): say so, and what to do instead."""
    page = browser.new_page()
    page.set_default_timeout(30_000)
    unavailable = {
        "status": 503,
        "content_type": "application/json",
        "headers": {"Retry-After": "30"},
        "body": '{"detail": "The service is temporarily unavailable. Try again shortly."}',
    }
    page.route("**/api/v1/door/heartbeat/", lambda route: route.fulfill(**unavailable))
    page.goto(f"{live_server.url}/kiosk/")
    page.fill("#pair-token", tablet_a.token)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#pair-error:has-text('use the PIN pad, or ask the staff')")

    page.unroute("**/api/v1/door/heartbeat/")
    page.fill("#pair-token", tablet_a.token)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#door:visible #centre:has-text('Alpha One')")
    page.route("**/api/v1/door/pin/", lambda route: route.fulfill(**unavailable))
    enter_pin(page, "M000001", "4711")
    page.wait_for_selector("#result.denied:has-text('PIN-tastaturet, eller spørg personalet')")


@pytest.mark.parametrize("camera_photo", [face_photo("John_Savage", 5)], ids=["grey-zone face"])
def test_kiosk_asks_only_the_pin_for_a_grey_zone_face(live_server, browser, tablet_a, world):
    """A face that matches a member only moderately: the pad opens by itself, asks the PIN and
    no member number, and the member's PIN lets them in (method face_pin)."""
    from members.services import set_pin
    from tests.access.conftest import enrolled

    john = enrolled(world.chain_a, world.centre_a1, "John_Savage", first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    page = browser.new_page()
    blocked = csp_violations(page)
    page.set_default_timeout(90_000)
    page.goto(f"{live_server.url}/kiosk/")
    page.fill("#pair-token", tablet_a.token)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#pin-pad:visible #pin-prompt:has-text('Indtast din pinkode for at bekræfte')")
    assert page.locator("#member-number-field").is_hidden()
    for digit in "4711":
        page.click(f"#pin-pad [data-digit='{digit}']")
    page.click("#pin-form button[type=submit]")
    page.wait_for_selector("#result.granted:has-text('Velkommen, John!')")
    event = AccessEvent.objects.get()
    assert (event.member, event.method, event.decision) == (john, "face_pin", "granted")
    assert not blocked, blocked

"""The kiosk's liveness challenge in a real headless Chromium whose fake camera is a synthetic
video: a still picture of a live member's face (a frame of ../shared/pad/dev), i.e. what a
print or a phone held perfectly still shows. The centre asks for the challenge on every entry:
the kiosk shows the arrow and the instruction, sends the burst, and the door refuses it.

A live head turn cannot be synthesised from the data we have (no video of a member turning on
request): the passing side of the challenge is covered by the geometry tests
(tests/face/test_liveness.py) and documented as untested with real people (docs/door.md)."""

from __future__ import annotations

import os

import pytest

from access.models import AccessEvent
from members.models import Centre
from tests.access.test_kiosk_browser import write_y4m
from tests.access.test_liveness_door import LIVE_PRINT_SUBJECT, enrolled_live, pad_image
from tests.browser.test_member_journey import csp_violations

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture
def still_camera(tmp_path):
    from playwright.sync_api import sync_playwright

    video = write_y4m(tmp_path / "camera.y4m", pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3))
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


def test_kiosk_shows_the_challenge_and_a_still_picture_is_refused(live_server, still_camera, world, tablet_a):
    world.centre_a1.liveness = Centre.Liveness.CHALLENGE_ALWAYS
    world.centre_a1.save()
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    page = still_camera.new_page()
    blocked = csp_violations(page)
    page.set_default_timeout(90_000)
    page.goto(f"{live_server.url}/kiosk/")
    page.fill("#pair-token", tablet_a.token)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#door:visible")

    page.wait_for_selector("#challenge:visible #challenge-text:has-text('Drej hovedet lidt til')")
    assert page.locator("#challenge-arrow").inner_text() in ("\u2190", "\u2192")
    page.wait_for_selector("#result.denied:has-text('Vi kunne ikke bekræfte, at du selv står her')")
    assert page.locator("#challenge").is_hidden()
    event = AccessEvent.objects.get()
    assert (event.reason, event.liveness_layer, event.member) == ("liveness_failed", "challenge", None)
    assert event.liveness_detail["challenge"]["frames"] == 10  # access.liveness.BURST_FRAMES
    assert not blocked, blocked

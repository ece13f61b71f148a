"""The statistics page in a real headless Chromium: the heat map, the day curve and the month
trend render as SVG with their marks, under the site's Content-Security-Policy."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from access.models import Door
from tests.browser.test_member_journey import browser, csp_violations  # noqa: F401 (browser: the fixture)
from tests.conftest import make_member
from tests.dpo.conftest import CPH, event

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser


def test_charts_render(live_server, browser, world):
    member = make_member(world.chain_a, world.centre_a1)
    door = Door.objects.create(centre=world.centre_a1, name="Main")
    for day, hour in ((2, 7), (2, 18), (3, 18), (9, 18)):
        event(world.centre_a1, member=member, door=door, at=datetime(2026, 3, day, hour, 5, tzinfo=CPH))
    page = browser.new_page()
    blocked = csp_violations(page)
    page.goto(f"{live_server.url}/admin/login/?next=/staff/")
    page.fill("#id_username", "manager_a")
    page.fill("#id_password", "pw-manager_a")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/staff/statistics/{world.centre_a1.pk}/?from=2026-03-01&to=2026-03-31&day=2026-03-02")
    heatmap = page.locator("#chart-heatmap svg")
    assert heatmap.is_visible() and heatmap.bounding_box()["width"] > 300
    assert page.locator("#chart-heatmap rect.cell").count() == 7 * 24
    # The busiest cell (Monday 18:00, two Mondays) is drawn darker than an empty one.
    darkest = max(
        float(o)
        for o in page.locator("#chart-heatmap rect.cell").evaluate_all(
            "els => els.map(e => e.getAttribute('fill-opacity'))"
        )
    )
    assert darkest == 1.0
    for chart in ("#chart-day", "#chart-month"):
        line = page.locator(f"{chart} polyline.series").first
        assert line.is_visible() and line.bounding_box()["width"] > 300
    assert page.locator("#chart-day polyline.series").count() == 3
    assert blocked == []
    page.close()

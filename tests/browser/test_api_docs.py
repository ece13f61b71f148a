"""The API docs page in a real headless Chromium: Swagger UI renders the API's
operations from the site's own files, under the site's Content-Security-Policy, and the browser
asks no other host for anything."""

from __future__ import annotations

import os

import pytest

from tests.browser.test_member_journey import browser, csp_violations  # noqa: F401 (browser: the fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_from_our_own_files(live_server, browser, db):
    page = browser.new_page()
    blocked = csp_violations(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 10  # the door, member and statistics operations
    assert "Justface API" in page.locator(".info .title").inner_text()
    others = [url for url in requested if not url.startswith((live_server.url, "data:"))]
    assert others == [] and blocked == []
    page.close()

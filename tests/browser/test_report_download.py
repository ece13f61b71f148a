"""A manager who reads the desk in Danish downloads the access report as XLSX and as CSV from the
page in a real browser: the pre-filled dates must reach the browser in ISO form, or
``<input type="date">`` shows them empty and the form comes back with "Dette felt er påkrævet"."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook

from tests.browser.test_member_journey import browser  # noqa: F401 (the fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["da"])
def test_manager_downloads_the_access_report_in_their_language(live_server, browser, world, language, tmp_path):  # noqa: F811
    manager = world.user("manager_a")
    manager.language = language
    manager.save(update_fields=["language"])
    page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page.goto(f"{live_server.url}/admin/login/?next=/staff/reports/access/")
    page.fill("#id_username", "manager_a")
    page.fill("#id_password", "pw-manager_a")
    page.click("input[type=submit]")
    page.wait_for_url("**/staff/reports/access/")
    assert page.input_value("#id_date_from") != "" and page.input_value("#id_date_to") != ""
    files = {}
    for fmt in ("xlsx", "csv"):
        page.select_option("#id_file_format", fmt)
        with page.expect_download() as info:
            page.click("#report-form input[type=submit]")
        download = info.value
        files[fmt] = (tmp_path / download.suggested_filename, download)
        download.save_as(files[fmt][0])
    xlsx, _ = files["xlsx"]
    assert xlsx.suffix == ".xlsx"
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sheet.max_row > 3 and "Alpha Fitness" in str([c.value for row in sheet.iter_rows(max_row=10) for c in row])
    csv_path, _ = files["csv"]
    assert csv_path.suffix == ".csv" and "Alpha Fitness" in csv_path.read_text(encoding="utf-8-sig")
    page.close()

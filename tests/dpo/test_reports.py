"""Access reports: every role, scope, the header, CSV and XLSX, bad input,
the background file that works once, the member's one-click report, the command, the audit."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from access import reports
from access.models import ReportExport
from justface import private_files
from justface.models import AuditEntry
from tests.permissions import assert_matrix

URL = "/staff/reports/access/"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def data_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    start = rows.index([]) + 2  # header lines, a blank line, the column names
    return rows[start:]


def test_report_page_matrix(desk, login):
    assert_matrix(
        login, "get", URL, {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 200, "anonymous": 302}
    )


@pytest.mark.parametrize("who", ["manager_a", "dpo_a"])
def test_csv_report_has_header_rows_of_its_chain_only_and_one_audit_entry(desk, login, who):
    response = login(who).post(URL, {**MARCH, "file_format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = body(response)
    assert "Run by" in text and who in text and "Alpha Fitness" in text and "1095 days" in text
    rows = data_rows(text)
    assert len(rows) == 4
    assert {r[3] for r in rows} == {"A-100", "A-200", ""}
    assert "B-300" not in text and "Beta One" not in text
    assert "Secretname" not in text  # numbers, never names
    entry = AuditEntry.objects.get(action="access.report")
    assert entry.chain_id == desk.chain_a.pk and "rows=4" in entry.reason and entry.actor_id == desk.user(who).pk
    assert "A-100" not in entry.reason and "Ann" not in entry.reason


def test_filters_centre_member_decision_method(desk, login):
    client = login("manager_a")
    text = body(
        client.post(URL, {**MARCH, "file_format": "csv", "centres": [desk.centre_a1.pk], "decision": "granted"})
    )
    assert [r[3] for r in data_rows(text)] == ["A-100", "A-100"]
    text = body(client.post(URL, {**MARCH, "file_format": "csv", "member_number": "a-200"}))
    assert [(r[3], r[4]) for r in data_rows(text)] == [("A-200", "pin")]
    text = body(client.post(URL, {**MARCH, "file_format": "csv", "method": "face", "direction": "out"}))
    assert len(data_rows(text)) == 1
    text = body(
        client.post(URL, {**MARCH, "file_format": "csv", "doors": [desk.door_a1.pk], "reason": "not_recognised"})
    )
    assert len(data_rows(text)) == 1


def test_xlsx_report(desk, login):
    response = login("dpo_a").post(URL, {**MARCH, "file_format": "xlsx"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][1] == "Alpha Fitness" and values[1][0] == "Run by"
    assert sum(1 for row in values if row and row[3] in ("A-100", "A-200")) == 3


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"date_from": "2026-03-31", "date_to": "2026-03-01"}, "date_to", "ends before it starts"),
        ({"date_from": "", "date_to": "2026-03-01"}, "date_from", "required"),
        ({**MARCH, "member_number": "NOPE-1"}, "member_number", "No member of this chain"),
        ({**MARCH, "member_number": "B-300"}, "member_number", "No member of this chain"),
    ],
)
def test_bad_input_is_a_form_error(desk, login, data, field, words):
    response = login("manager_a").post(URL, {**data, "file_format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert words in " ".join(response.context["form"].errors[field])
    assert not AuditEntry.objects.filter(action="access.report").exists()


def test_another_chains_centre_is_a_form_error_and_shows_nothing(desk, login):
    response = login("manager_b").post(URL, {**MARCH, "file_format": "csv", "centres": [desk.centre_a1.pk]})
    assert response.status_code == 200 and response.context["form"].errors["centres"]
    page = login("manager_b").get(URL).content.decode()
    assert "Alpha" not in page


def test_outsider_report_holds_only_their_chain(desk, login):
    text = body(login("manager_b").post(URL, {**MARCH, "file_format": "csv"}))
    assert {r[3] for r in data_rows(text)} == {"B-300"} and "Alpha" not in text


def test_large_report_is_a_task_with_a_one_time_link(
    desk, login, settings, django_capture_on_commit_callbacks, private_root
):
    settings.JUSTFACE_REPORT_INLINE_ROWS = 2
    client = login("dpo_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {**MARCH, "file_format": "csv"})
    export = ReportExport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/reports/access/files/{export.pk}/"
    export.refresh_from_db()
    assert (
        export.status == "ready"
        and export.rows_done == export.rows_total == 4
        and export.requested_by == desk.user("dpo_a")
    )
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Download (works once)" in page.content.decode()
    assert AuditEntry.objects.filter(action="access.report").count() == 1
    # Only its requester: another of the same chain gets nothing, nor does the outsider.
    link = f"/staff/reports/access/files/{export.pk}/download/"
    assert login("manager_a").get(link).status_code == 404
    assert login("manager_b").get(link).status_code == 404
    assert login("manager_a").get(response["Location"]).status_code == 404
    client = login("dpo_a")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(link)
    assert first.status_code == 200 and len(data_rows(first.content.decode())) == 4
    assert client.get(link).status_code == 404  # once
    assert not list(private_root.rglob("*.bin"))  # the file is erased


def test_expired_export_file_is_erased(desk, login, settings, django_capture_on_commit_callbacks, private_root):
    from datetime import timedelta

    from django.utils import timezone

    settings.JUSTFACE_REPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        login("manager_a").post(URL, {**MARCH, "file_format": "xlsx"})
    export = ReportExport.objects.get()
    assert private_files.exists(ReportExport.objects.get().file_name)
    assert reports.erase_expired_exports(at=export.expires_at + timedelta(seconds=1)) == 1
    export.refresh_from_db()
    assert export.status == "expired" and not export.file_name and not list(private_root.rglob("*.bin"))
    assert login("manager_a").get(f"/staff/reports/access/files/{export.pk}/download/").status_code == 404
    assert timezone.now() < export.expires_at


def test_member_report_matrix_and_link(desk, login):
    url = f"/staff/reports/access/member/{desk.ann.pk}/?format=csv"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 404, "anonymous": 302}
    )
    text = body(responses["dpo_a"])
    assert [r[3] for r in data_rows(text)] == ["A-100", "A-100"]
    page = login("manager_a").get(f"/admin/members/member/{desk.ann.pk}/change/").content.decode()
    assert f"/staff/reports/access/member/{desk.ann.pk}/" in page
    entry = AuditEntry.objects.filter(action="access.report").first()
    assert f"member={desk.ann.pk}" in entry.reason and "member page" in entry.reason


def test_command_writes_the_same_report(desk, tmp_path):
    out = tmp_path / "r.csv"
    call_command(
        "access_report",
        "--chain",
        "alpha",
        "--centre",
        "a1",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--format",
        "csv",
        "--output",
        str(out),
    )
    rows = data_rows(out.read_text())
    assert len(rows) == 3 and "operator (command line)" in out.read_text()
    xlsx = tmp_path / "r.xlsx"
    call_command(
        "access_report",
        "--chain",
        "alpha",
        "--member-number",
        "A-200",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    assert load_workbook(xlsx).active.max_row > 8
    assert AuditEntry.objects.filter(action="access.report", reason__startswith="command").count() == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-03-31", "--to", "2026-03-01"], "ends before it starts"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--member-number", "B-300"], "No member of this chain"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--centre", "b1"], "No centre 'b1' in chain 'alpha'"),
        (["--from", "March", "--to", "2026-03-31"], "is not a date"),
    ],
)
def test_command_bad_input_is_one_line(desk, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("access_report", "--chain", "alpha", "--format", "csv", "--output", str(tmp_path / "x.csv"), *args)

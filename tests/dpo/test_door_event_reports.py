"""Door events in the access report: the staff page's CSV and XLSX, the background file, the
member's report and the command; scoped to the chain; labels in en/da/nb."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from access import reports
from access.models import AccessEvent, Door, DoorEvent
from justface.display import label
from justface.models import AuditEntry
from tests.dpo.conftest import CPH

URL = "/staff/reports/access/"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def door_event(door, kind, at, access_event=None, **extra) -> DoorEvent:
    return DoorEvent.objects.create(door=door, kind=kind, at=at, access_event=access_event, **extra)


@pytest.fixture
def doors(desk):
    """Chain A's door: Ann's grant opened it, later it was forced and held open, its agent went
    offline; chain B's door was forced open too."""
    w = desk
    grant = AccessEvent.objects.get(member=w.ann, direction="in")
    w.opened = door_event(w.door_a1, "opened", datetime(2026, 3, 2, 7, 5, 2, tzinfo=CPH), grant)
    w.hint = door_event(w.door_a1, "tailgating_hint", datetime(2026, 3, 2, 7, 5, 3, tzinfo=CPH), grant)
    w.forced = door_event(
        w.door_a1,
        "forced_open",
        datetime(2026, 3, 4, 23, 0, tzinfo=CPH),
        closed_at=datetime(2026, 3, 4, 23, 1, tzinfo=CPH),
    )
    w.held = door_event(w.door_a1, "held_open", datetime(2026, 3, 4, 23, 0, 30, tzinfo=CPH))
    w.offline = door_event(w.door_a1, "agent_offline", datetime(2026, 3, 5, 2, 0, tzinfo=CPH))
    door_event(w.door_a1, "forced_open", datetime(2026, 4, 1, 12, 0, tzinfo=CPH))  # outside the period
    w.door_b1 = Door.objects.create(centre=w.centre_b1, name="Beta door")
    door_event(w.door_b1, "forced_open", datetime(2026, 3, 4, 22, 0, tzinfo=CPH))
    return w


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def door_table(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    start = rows.index(["Door events"])
    return rows[start + 2 :]


def test_the_csv_report_lists_the_chains_door_events_after_its_access_events(doors, login):
    text = body(login("dpo_a").post(URL, {**MARCH, "file_format": "csv"}))
    header = dict(r for r in csv.reader(io.StringIO(text)) if len(r) == 2)
    assert header["Door events"] == "5" and header["Rows"] == "4"
    rows = door_table(text)
    assert [(r[2], r[3], r[6]) for r in rows] == [
        ("Main", "Opened after a grant", "A-100"),
        ("Main", "Tailgating hint", "A-100"),
        ("Main", "Forced open", ""),
        ("Main", "Held open", ""),
        ("Main", "Agent offline", ""),
    ]
    assert rows[2][4].startswith("2026-03-04T23:01")  # the forced door closed again
    assert rows[0][5] == str(doors.opened.access_event_id)
    assert "Beta" not in text and "Secretname" not in text
    entry = AuditEntry.objects.get(action="access.report")
    assert "door_events=5" in entry.reason and "A-100" not in entry.reason
    # Chain B's manager sees chain B's forced door only.
    other = body(login("manager_b").post(URL, {**MARCH, "file_format": "csv"}))
    assert [(r[2], r[3]) for r in door_table(other)] == [("Beta door", "Forced open")]
    assert login("anonymous").post(URL, {**MARCH, "file_format": "csv"}).status_code == 302


def test_alarms_only_or_no_door_events(doors, login):
    client = login("manager_a")
    alarms = door_table(body(client.post(URL, {**MARCH, "file_format": "csv", "door_events": "alarms"})))
    assert [r[3] for r in alarms] == ["Tailgating hint", "Forced open", "Held open", "Agent offline"]
    none = body(client.post(URL, {**MARCH, "file_format": "csv", "door_events": "none"}))
    assert ["Door events"] not in list(csv.reader(io.StringIO(none))) and "Forced open" not in none
    assert "Door events: No door events" in none  # the filters say so
    bad = client.post(URL, {**MARCH, "file_format": "csv", "door_events": "everything"})
    assert bad.status_code == 200 and "door_events" in bad.content.decode() and not bad.streaming


def test_a_members_report_holds_only_the_door_events_tied_to_that_member(doors, login):
    text = body(login("dpo_a").get(f"/staff/reports/access/member/{doors.ann.pk}/", {"format": "csv"}))
    assert [(r[3], r[6]) for r in door_table(text)] == [("Opened after a grant", "A-100"), ("Tailgating hint", "A-100")]
    text = body(login("dpo_a").get(f"/staff/reports/access/member/{doors.bo.pk}/", {"format": "csv"}))
    assert "Door events" in text.split("\n\n")[0]  # the count line says 0
    assert "Forced open" not in text


def test_the_xlsx_report_has_a_door_events_sheet(doors, login):
    response = login("dpo_a").post(URL, {**MARCH, "file_format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Access events", "Door events"]
    values = [[c.value for c in row] for row in book["Door events"].iter_rows()]
    assert values[0][:4] == ["Time", "Centre", "Door", "Door event"]
    assert [v[3] for v in values[1:]] == [
        "Opened after a grant",
        "Tailgating hint",
        "Forced open",
        "Held open",
        "Agent offline",
    ]


def test_the_background_file_and_the_command_carry_door_events_too(doors, login, tmp_path, settings):
    settings.JUSTFACE_REPORT_INLINE_ROWS = 2
    from django_q.tasks import async_task  # noqa: F401  (run inline by the test settings)

    login("dpo_a").post(URL, {**MARCH, "file_format": "csv"})
    from access.models import ReportExport

    export = ReportExport.objects.get()
    reports.build_export(str(export.pk))
    _, content = reports.take_export_file(export_id=export.pk, user=export.requested_by)
    assert [r[3] for r in door_table(content.decode())][:2] == ["Opened after a grant", "Tailgating hint"]
    out = tmp_path / "report.csv"
    call_command(
        "access_report", "--chain", doors.chain_a.slug, "--from", "2026-03-01", "--to", "2026-03-31",
        "--format", "csv", "--output", str(out), "--door-events", "alarms",
    )  # fmt: skip
    assert [r[3] for r in door_table(out.read_text())][0] == "Tailgating hint"


@pytest.mark.parametrize(
    "language, forced, hint",
    [("en", "Forced open", "Tailgating hint"), ("da", "Brudt op", "Mulig medløber"), ("nb", None, None)],
)
def test_door_event_labels_in_en_da_nb(language, forced, hint):
    with translation.override(language):
        labels = {kind: str(label("access.door_event", kind)) for kind, _ in DoorEvent.Kind.choices}
        options = [str(text) for _, text in reports.door_reports.CHOICES] + [str(reports.door_reports.TITLE)]
    if forced:
        assert (labels["forced_open"], labels["tailgating_hint"]) == (forced, hint)
    with translation.override("en"):
        english = {kind: str(label("access.door_event", kind)) for kind, _ in DoorEvent.Kind.choices}
        english_options = [str(text) for _, text in reports.door_reports.CHOICES] + [str(reports.door_reports.TITLE)]
    if language != "en":
        assert all(labels[k] != english[k] for k in labels if k not in ("agent_offline",)), labels
        assert all(a != b for a, b in zip(options, english_options)), options

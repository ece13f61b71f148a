"""Reading members' files (imports.files): the template in both formats reads back, encodings
(UTF-8 with and without a byte-order mark, Windows-1252), Excel's semicolon CSV, dates as ISO,
DD-MM-YYYY and DD.MM.YYYY, row errors with their line numbers, and a bad file as one message."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from imports import files
from imports.files import BadFile, read_rows


def rows(content: bytes):
    return list(read_rows(content))


def test_the_templates_read_back_as_one_example_row():
    for content in (files.template_csv(), files.template_xlsx()):
        (row,) = rows(content)
        assert row.error is None and row.line == 2 and row.external_id == "A-1001"
        assert row.data["first_name"] == "Ida" and row.data["birth_date"] == "1990-05-17"
        assert row.data["phone"] == "+45 30 12 34 56"  # the export's formula guard is undone
        assert row.data["address"] == "Testvej 1, 2200 København N"
        assert row.data["end_date"] is None and "start_date" in row.data
    assert files.template_csv().startswith(b"\xef\xbb\xbf")
    sheet = load_workbook(io.BytesIO(files.template_xlsx())).active
    assert [c.value for c in sheet[1]] == list(files.COLUMNS)


@pytest.mark.parametrize(
    "encoded",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("cp1252"),  # Excel's "CSV (semicolon-separated)" on a Danish Windows
    ],
)
def test_encodings_and_excels_semicolons(encoded):
    text = "Member number;First name;Last name;Birth date;home_centre\r\nB-7;Søren;Ærø;17.05.1990;a1\r\n"
    (row,) = rows(encoded(text))
    assert row.external_id == "B-7" and row.data["first_name"] == "Søren" and row.data["last_name"] == "Ærø"
    assert row.data["birth_date"] == "1990-05-17"


def test_dates_line_numbers_and_row_errors():
    text = (
        "external_id,first_name,birth_date,end_date,status,gender\n"
        "1,Ann,1990-05-17,,Active,Female\n"
        "2,Bo,17-05-1990,31.12.2026,ended,male\n"
        "\n"  # a blank line is skipped, but counted as a line
        '3,"Multi\nline",1990/05/17,,active,\n'
        "4,Dan,31-02-1990,,active,\n"
        "1,Again,,,active,\n"
        ",Nobody,,,active,\n"
        "5,Extra,,,active,,surplus\n"
        "6,Ok,,,active,\n"
    )
    found = {r.line: r for r in rows(text.encode())}
    assert found[2].error is None and found[2].data["status"] == "active" and found[2].data["gender"] == "female"
    assert found[2].data["end_date"] is None
    assert found[3].data["birth_date"] == "1990-05-17" and found[3].data["end_date"] == "2026-12-31"
    assert found[5].error[0] == "birth_date" and "YYYY-MM-DD" in found[5].error[1]  # 1990/05/17: ambiguous
    assert found[7].error[0] == "birth_date"  # 31 February
    assert found[8].error == ("external_id", "This member comes twice in the file (first on line 2).")
    assert found[9].error[0] == "external_id"
    assert "more cells" in found[10].error[1]
    assert found[11].error is None and found[11].line == 11
    assert files.count_rows(text.encode()) == len(found) == 8


def test_xlsx_cells_dates_and_numbers():
    from datetime import date, datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["external_id", "first_name", "phone", "birth_date", "start_date"])
    sheet.append([1001, "Eva", 4530123456, datetime(1990, 5, 17), date(2026, 1, 1)])
    sheet.append(["1002", "Finn", "+47 22 33 44 55", "17.05.1990", None])
    sheet.append(["1003", datetime(2020, 1, 1), "", "", ""])
    out = io.BytesIO()
    book.save(out)
    first, second, third = rows(out.getvalue())
    assert first.external_id == "1001" and first.data["phone"] == "4530123456"
    assert first.data["birth_date"] == "1990-05-17" and first.data["start_date"] == "2026-01-01"
    assert second.data["birth_date"] == "1990-05-17" and "start_date" not in second.data  # kept when empty
    assert third.error[0] == "first_name" and third.line == 4


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"first_name,last_name\nA,B\n", "no external_id column"),
        (b"external_id,shoe_size\n1,44\n", "Unknown column 'shoe_size'"),
        (b"external_id,email,E-mail\n1,a,b\n", "comes twice"),
        (b"PK\x03\x04not really a zip", "cannot be opened"),
        (b"\xef\xbb\xbfexternal_id\n\xff\xfe\n", "UTF-8 but is not"),
        (b"\x00\x01\x02external_id", "not a CSV or XLSX"),
    ],
)
def test_a_bad_file_is_one_message(content, message):
    with pytest.raises(BadFile, match=message):
        rows(content)

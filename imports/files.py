"""Files of members (CSV or XLSX) read into the rows the member upsert takes
(integration.sync.upsert_members), and the template file staff download. docs/import.md
describes the columns.

Plain `csv` and `openpyxl` (already used for the access reports): the upsert validates every
field, so what is left here is reading cells, which django-import-export would not shorten
(README, *Bulk import*)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _

from justface.crypto import normalise_member_number
from justface.exports import _FORMULA_START, spreadsheet_row

# The template's columns, in its order. external_id is the chain's own member id (the member
# number); the others are the member fields of the integration API.
COLUMNS = (
    "external_id",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "email",
    "phone",
    "address",
    "home_centre",
    "membership_type",
    "status",
    "start_date",
    "end_date",
    "guardian_name",
    "guardian_email",
)
ALIASES = {"member_number": "external_id", "membership_number": "external_id", "e_mail": "email"}
DATE_COLUMNS = ("birth_date", "start_date", "end_date")
# An empty cell clears the field, except where the member must keep a value (the upsert then
# answers a new member's missing name or centre as a row error).
KEEP_WHEN_EMPTY = ("start_date",)
LOWERCASE = ("gender", "status")
EXAMPLE = (
    "A-1001", "Ida", "Jensen", "1990-05-17", "female", "ida@example.com", "+45 30 12 34 56",
    "Testvej 1, 2200 København N", "norrebro", "Standard", "active", "2026-01-01", "", "", "",
)  # fmt: skip

_DMY = re.compile(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})$")


class BadFile(Exception):
    """The file as a whole cannot be read: one line for the staff member or the command."""


@dataclass
class Row:
    line: int  # where the row is in the file (the header is line 1)
    external_id: str
    data: dict = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (field, message) found before the upsert


def template_csv() -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads the æ, ø and å right), comma-separated."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(spreadsheet_row(EXAMPLE))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "members"
    sheet.append(list(COLUMNS))
    sheet.append(spreadsheet_row(EXAMPLE))
    for column in sheet.columns:  # every cell text: Excel must not turn ids or phones into numbers
        for cell in column:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def is_xlsx(content: bytes) -> bool:
    return content[:4] == b"PK\x03\x04"


def read_rows(content: bytes) -> Iterator[Row]:
    """Every data row of a CSV or XLSX file, in order. A row with a bad cell carries its error;
    a file that cannot be read at all raises BadFile (before any row, or at the broken place)."""
    raw_rows = _xlsx_cells(content) if is_xlsx(content) else _csv_cells(content)
    try:
        line, header = next(raw_rows)
    except StopIteration:
        raise BadFile(_("The file is empty.")) from None
    columns = _columns(header)
    seen: dict[str, int] = {}
    for line, cells in raw_rows:
        if not any(str(c).strip() for c in cells if c is not None):
            continue  # blank lines (Excel leaves some at the end)
        if len(cells) > len(columns) and any(str(c).strip() for c in cells[len(columns) :] if c is not None):
            yield Row(line, "", error=("", _("This row has more cells than the header has columns.")))
            continue
        yield _row(line, columns, cells, seen)


def count_rows(content: bytes) -> int:
    """The data rows read_rows will yield (for a progress bar's total), without reading the cells
    into rows: the header is checked and a broken CSV raises BadFile here too."""
    raw_rows = _xlsx_cells(content) if is_xlsx(content) else _csv_cells(content)
    try:
        _columns(next(raw_rows)[1])
    except StopIteration:
        raise BadFile(_("The file is empty.")) from None
    return sum(1 for _line, cells in raw_rows if any(str(c).strip() for c in cells if c is not None))


def _columns(header: list) -> list[str]:
    columns = []
    for cell in header:
        name = re.sub(r"[\s-]+", "_", str(cell or "").strip().lower())
        name = ALIASES.get(name, name)
        if name and name not in COLUMNS:
            raise BadFile(_("Unknown column %(name)r in the header (line 1): see the template.") % {"name": name})
        if name and name in columns:
            raise BadFile(_("The column %(name)r comes twice in the header (line 1).") % {"name": name})
        columns.append(name)
    if "external_id" not in columns:
        raise BadFile(_("The header (line 1) has no external_id column: see the template."))
    return columns


def _row(line: int, columns: list[str], cells: list, seen: dict[str, int]) -> Row:
    data: dict = {}
    row = Row(line, "")
    for name, cell in zip(columns, cells, strict=False):
        if not name:
            continue  # a column without a header: ignored, as in the template's notes
        try:
            value = _value(name, cell)
        except ValueError as error:
            row.error = row.error or (name, str(error))
            continue
        if name == "external_id":
            row.external_id = value or ""
        elif value is None and name in KEEP_WHEN_EMPTY:
            continue
        else:
            data[name] = value
    row.data = data
    if row.error is None:
        if not row.external_id:
            row.error = ("external_id", _("Give the member's id (external_id)."))
        else:
            key = normalise_member_number(row.external_id)
            if key in seen:
                twice = _("This member comes twice in the file (first on line %(n)d).") % {"n": seen[key]}
                row.error = ("external_id", twice)
            else:
                seen[key] = line
    return row


def _value(name: str, cell):
    """A cell as the upsert takes it: text, a date as YYYY-MM-DD, None for an empty date."""
    if name in DATE_COLUMNS:
        return _date(cell)
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a member number or phone Excel stored as a number
    if isinstance(cell, datetime | date):
        raise ValueError(_("A date where text was expected."))
    text = str(cell).strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        text = text[1:]  # the quote our own exports put before "+45 …" or "=…"
    return text.lower() if name in LOWERCASE else text


def _date(cell) -> str | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    text = str(cell).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        found = _DMY.match(text)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day).isoformat()
    except ValueError:
        pass
    raise ValueError(_("Not a date: write YYYY-MM-DD, DD-MM-YYYY or DD.MM.YYYY."))


def _decode(content: bytes) -> str:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252: what Excel on a
    Danish or Norwegian Windows writes as "CSV (semicolon-separated)"."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _csv_cells(content: bytes) -> Iterator[tuple[int, list]]:
    try:
        text = _decode(content)
    except UnicodeDecodeError:
        raise BadFile(_("The file says it is UTF-8 but is not: save it again as CSV UTF-8.")) from None
    if "\x00" in text:
        raise BadFile(_("This is not a CSV or XLSX file."))
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)  # Excel in Danish and Norwegian writes ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise BadFile(
            _("The file cannot be read as CSV near line %(n)d: %(error)s") % {"n": line, "error": error}
        ) from None


def _xlsx_cells(content: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise BadFile(_("The XLSX file cannot be opened: save it again from the spreadsheet program.")) from None
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()

"""Helpers for files staff download.

Every cell of every CSV or XLSX file the product writes (access reports, statistics, the member
list) goes through `spreadsheet_cell`, headers and labels included: a chain, centre, door or member
name, or a staff username, that starts like a formula (`=HYPERLINK(...)`, `+1`, `-1+1`, `@SUM`)
must reach the spreadsheet as text, never as a live formula (OWASP, "CSV Injection")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

# OWASP's list (=, +, -, @, tab, carriage return), and the full-width forms some spreadsheets
# also read as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Control characters an XLSX file cannot hold (openpyxl refuses them); tab, LF and CR stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def spreadsheet_cell(value) -> str | int | float | Decimal:
    """One cell for a CSV or XLSX file: numbers stay numbers (a number is never a formula); any other
    value becomes text, prefixed with a quote when it would start a formula."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if value is None:
        return ""
    text = _CONTROL.sub("", str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def spreadsheet_row(values: Iterable) -> list:
    """A row of `spreadsheet_cell`s: what csv.writer.writerow and openpyxl's append are given."""
    return [spreadsheet_cell(value) for value in values]

"""The one way to show a code, a status or a time to a person.

Codes stored in the database (an access event's reason, a consent record's action, an audit
entry's action...) are words for the program, not for people. Each app registers its labels in a
`labels` module of its own (found like admin.py modules), and every page, list and title shows
them through `label(kind, code)` or the template filters of `justface.templatetags.display`:

    {% load display %}{{ event.reason|label:"access.reason" }} {{ event.at|when }}

Times are shown in the current time zone, dates in the reader's language, hours 24-hour (never
"12:20 a.m.")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache

from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

EMPTY = "–"
_labels: dict[str, dict[str, object]] = {}


def register(kind: str, labels: Mapping[str, object] | Iterable[tuple[str, object]]) -> None:
    """Labels for the codes of one kind ("access.reason", "consent.action"...); choices work too."""
    _labels.setdefault(kind, {}).update(dict(labels))


@cache
def _discover() -> None:
    autodiscover_modules("labels")


def labels(kind: str) -> dict[str, object]:
    _discover()
    return dict(_labels.get(kind, {}))


def kinds() -> list[str]:
    _discover()
    return sorted(_labels)


def label(kind: str, code) -> str:
    """The person's word for a code; an unknown code is shown as it is (never an error)."""
    if code is None or code == "":
        return EMPTY
    _discover()
    return str(_labels.get(kind, {}).get(str(code), code))


def choices(kind: str) -> list[tuple[str, object]]:
    """(code, label) pairs for a form's or a filter's choices."""
    return list(labels(kind).items())


AUDIT_VERBS = {
    "add": gettext_lazy("added"),
    "change": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
    "view": gettext_lazy("viewed"),
    "list": gettext_lazy("listed"),
    "export": gettext_lazy("exported"),
    "erase": gettext_lazy("erased"),
    "purge": gettext_lazy("purged"),
}


def audit_action(code: str) -> str:
    """An audit entry's action ("member.view", "exclusion.add", "register.export") in words."""
    if not code:
        return EMPTY
    _discover()
    known = _labels.get("audit.action", {})
    if code in known:
        return str(known[code])
    subject, _dot, verb = code.partition(".")
    subjects = _labels.get("audit.object", {})
    if subject in subjects and verb in AUDIT_VERBS:
        return f"{subjects[subject]}: {AUDIT_VERBS[verb]}"
    return code


def _to_datetime(value):
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            parsed = parse_date(value)
        return parsed if parsed is not None else value
    return value


def when_short(value) -> str:
    """A compact local time for lists and tables: "2026-12-06 02:41" (the same in every language)."""
    value = _to_datetime(value)
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
    return when(value)


def when(value, *, seconds: bool = False) -> str:
    """A date or time for a person: "5. december 2026, 23:20" (da), "Dec. 5, 2026, 23:20" (en), in
    the current time zone. ISO strings (as the data export holds them) are read too."""
    value = _to_datetime(value)
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        clock = value.strftime("%H:%M:%S" if seconds else "%H:%M")
        return _("%(day)s, %(time)s") % {"day": formats.date_format(value, "DATE_FORMAT"), "time": clock}
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def number(value, places: int = 2) -> str:
    """A score or a measure, rounded for a person (never 16 decimals)."""
    if value is None or value == "":
        return EMPTY
    try:
        return formats.number_format(round(float(value), places), places)
    except (TypeError, ValueError):
        return str(value)

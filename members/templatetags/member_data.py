"""The access page shows each category of data in plain words: a short list of its facts, or its
records newest first (a few; the download has them all), the technical ones folded away."""

import re

from django import template
from django.utils.translation import gettext as _

from justface import display
from members.subject_data import Category

register = template.Library()

SHOWN = 10  # records of a kind shown on the page; the download (ZIP) holds every one
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?$")


@register.inclusion_tag("members/portal/_data_table.html")
def data_table(category: Category) -> dict:
    data = category.data
    if isinstance(data, dict):
        return {"pairs": _pairs(category, data, main=True)}
    newest = list(reversed(data))[:SHOWN]
    return {
        "records": [
            {"main": _pairs(category, row, main=True), "more": _pairs(category, row, main=False)} for row in newest
        ],
        "hidden": max(0, len(data) - SHOWN),
        "empty": not data,
    }


def _pairs(category: Category, row: dict, *, main: bool) -> list[tuple[str, str]]:
    pairs = []
    for key, value in row.items():
        if (key in category.details) == main:
            continue
        if not main and (value is None or value == ""):
            continue
        pairs.append((category.labels.get(key, key), _display(value, category.codes.get(key))))
    return pairs


def _display(value, kind: str | None = None) -> str:
    if value is None or value == "":
        return display.EMPTY
    if kind:
        return display.label(kind, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and _ISO.match(value):
        return display.when(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)

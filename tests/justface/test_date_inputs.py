"""Dates and times go into HTML inputs in ISO form in every language: a Danish page
that pre-filled ``01.12.2026`` into ``<input type="date">`` showed the field empty and refused to
submit. One set of widgets (justface/widgets.py) renders them; this checks every form and the pages."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django import forms
from django.contrib import admin

from justface.widgets import ISO_DATE, ISO_DATETIME, ISO_TIME

# Modules that define forms outside the admin (the admin's own forms are built when its pages load).
FORM_MODULES = ("access.report_forms", "consent.portal.forms", "members.portal.forms", "justface.staff_desk")
HTML_TYPES = {"date": ISO_DATE, "time": ISO_TIME, "datetime-local": ISO_DATETIME}
INPUT = re.compile(r'<input type="(date|time|datetime-local)"[^>]*?value="([^"]*)"')
ISO_VALUE = {
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "time": re.compile(r"^\d{2}:\d{2}$"),
    "datetime-local": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"),
}


def _all_form_classes():
    for name in FORM_MODULES:
        importlib.import_module(name)
    seen, todo = set(), [forms.BaseForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return [c for c in seen if c.__module__.split(".")[0] in ("access", "consent", "members", "retention", "justface")]


def _widget_problems(form_class) -> list[str]:
    problems = []
    for name, field in getattr(form_class, "base_fields", {}).items():
        widget = field.widget
        html_type = widget.attrs.get("type", getattr(widget, "input_type", None))
        if html_type in HTML_TYPES and getattr(widget, "format", None) != HTML_TYPES[html_type]:
            problems.append(f"{form_class.__module__}.{form_class.__name__}.{name}: {type(widget).__name__}")
    return problems


def test_every_form_renders_dates_for_html_date_inputs_in_iso(db, rf, world):
    classes = _all_form_classes()
    # The admin's model forms too, as the admin builds them for a manager.
    request = rf.get("/")
    request.user = world.user("operator")
    for model, model_admin in admin.site._registry.items():
        try:
            classes.append(model_admin.get_form(request))
        except Exception:  # noqa: BLE001  (an admin without a model form, e.g. read-only views)
            continue
    assert classes
    problems = [p for c in classes for p in _widget_problems(c)]
    assert problems == []


@pytest.mark.parametrize("language", ["da", "nb", "en"])
@pytest.mark.parametrize(
    "url",
    ["/staff/reports/access/", "/admin/members/exclusion/add/"],
)
def test_date_inputs_are_prefilled_in_iso_in_every_language(world, login, language, url):
    manager = world.user("manager_a")
    manager.language = language
    manager.save(update_fields=["language"])
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=UTC), tick=False):
        html = login("manager_a").get(url).content.decode()
    inputs = INPUT.findall(html)
    if url.startswith("/staff/reports/"):
        assert ("date", "2026-12-01") in inputs and ("date", "2026-12-05") in inputs, inputs
    for html_type, value in inputs:
        assert value == "" or ISO_VALUE[html_type].match(value), f"{url} [{language}]: {html_type}={value!r}"


def test_statistics_page_date_inputs_are_iso_in_danish(world, login):
    manager = world.user("manager_a")
    manager.language = "da"
    manager.save(update_fields=["language"])
    html = login("manager_a").get(f"/staff/statistics/{world.centre_a1.pk}/").content.decode()
    inputs = INPUT.findall(html)
    assert len(inputs) == 3 and all(ISO_VALUE[t].match(v) for t, v in inputs), inputs


@pytest.mark.parametrize("language", ["da", "nb", "en"])
def test_danish_dates_submitted_by_the_browser_are_accepted(world, login, language):
    manager = world.user("manager_a")
    manager.language = language
    manager.save(update_fields=["language"])
    response = login("manager_a").post(
        "/staff/reports/access/", {"date_from": "2026-12-01", "date_to": "2026-12-05", "file_format": "csv"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")

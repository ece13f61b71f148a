"""The one way the site renders dates and times into HTML inputs.

``<input type="date">``, ``type="time"`` and ``type="datetime-local"`` take their ``value`` in ISO form
(``2026-12-01``, ``22:00``, ``2026-12-01T22:00``) whatever the page's language; the browser shows it
in the reader's own format. Django's plain ``DateInput`` renders the *localized* format (``01.12.2026``
in Danish), which the browser drops, leaving the field empty. Every date or time field on a form uses
these widgets (tests/justface/test_date_inputs.py checks every form the project defines)."""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_TIME = "%H:%M"
ISO_DATETIME = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATE)


class IsoTimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_TIME)


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATETIME)

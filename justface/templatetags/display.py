"""Template filters for showing codes, statuses, times and scores to people (justface.display)."""

from django import template

from justface import display

register = template.Library()


@register.filter
def label(code, kind: str) -> str:
    return display.label(kind, code)


@register.filter
def when(value) -> str:
    return display.when(value)


@register.filter
def audit_action(code) -> str:
    return display.audit_action(code)


@register.filter
def score(value, places: int = 2) -> str:
    return display.number(value, places)

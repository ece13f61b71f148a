"""Admin pieces that show codes to people through justface.display: a list filter whose choices
are a code's labels, and list columns for a code, a score and a member's number."""

from __future__ import annotations

from django.contrib import admin

from justface import display


def code_filter(field: str, kind: str, title, to_label=None) -> type[admin.SimpleListFilter]:
    """A list filter on `field` offering the labels of `kind` (only codes that occur in the rows);
    `to_label(code)` instead of the labels of `kind` where codes are composed (audit actions)."""

    class CodeFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            present = set(model_admin.get_queryset(request).order_by().values_list(field, flat=True).distinct())
            known = {c: to_label(c) for c in present if c} if to_label else display.labels(kind)
            codes = sorted((c for c in present if c), key=lambda c: str(known.get(c, c)))
            return [(code, known.get(code, code)) for code in codes]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    CodeFilter.title = title
    CodeFilter.__name__ = f"{field.title().replace('_', '')}Filter"
    return CodeFilter


def code_column(field: str, kind: str, description):
    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return display.label(kind, getattr(obj, field))

    return column


def score_column(field: str, description):
    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return display.number(getattr(obj, field))

    return column


def when_column(field: str, description):
    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return display.when(getattr(obj, field))

    return column

"""The access page shows each category of data as a table, whatever its shape."""

from django import template
from django.utils.translation import gettext as _

from members.subject_data import Category

register = template.Library()


@register.inclusion_tag("members/portal/_data_table.html")
def data_table(category: Category) -> dict:
    data = category.data
    label = lambda key: category.labels.get(key, key)  # noqa: E731
    if isinstance(data, dict):
        return {"pairs": [(label(k), _display(v)) for k, v in data.items()]}
    keys = list(data[0]) if data else []
    return {
        "headings": [label(k) for k in keys],
        "rows": [[_display(row[k]) for k in keys] for row in data],
        "empty": not data,
    }


def _display(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)

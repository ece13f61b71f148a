from django import template

from justface.staff_nav import entries_for

register = template.Library()


@register.inclusion_tag("staff/_nav.html", takes_context=True)
def staff_nav(context, with_help: bool = False) -> dict:
    return {"entries": entries_for(context["request"].user), "with_help": with_help}

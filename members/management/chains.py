"""The `--chain SLUG` option the operator's commands share."""
from django.core.management.base import CommandError
from django.db.models import QuerySet

from members.models import Chain


def chains_named(slug: str | None) -> QuerySet[Chain]:
    """Every chain (by slug), or only the one named; an unknown slug is a one-line error."""
    chains = Chain.objects.order_by("slug")
    if slug is None:
        return chains
    chains = chains.filter(slug=slug)
    if not chains.exists():
        raise CommandError(f"No chain with the slug {slug!r}.")
    return chains

"""The options the operator's commands share: `--chain SLUG`, `--centre SLUG`, `--member-number N`
and dates; each bad value is a one-line CommandError."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError
from django.db.models import QuerySet

from members.models import Centre, Chain, Member, member_number_hash


def chains_named(slug: str | None) -> QuerySet[Chain]:
    """Every chain (by slug), or only the one named; an unknown slug is a one-line error."""
    chains = Chain.objects.order_by("slug")
    if slug is None:
        return chains
    chains = chains.filter(slug=slug)
    if not chains.exists():
        raise CommandError(f"No chain with the slug {slug!r}.")
    return chains


def chain_named(slug: str) -> Chain:
    return chains_named(slug).get()


def centres_named(chain: Chain, slugs: list[str]) -> list[Centre]:
    """The chain's centres with these slugs, in the order given; another chain's is unknown here."""
    centres = []
    for slug in slugs:
        centre = Centre.objects.filter(chain=chain, slug=slug).first()
        if centre is None:
            raise CommandError(f"No centre {slug!r} in chain {chain.slug!r}.")
        centres.append(centre)
    return centres


def member_numbered(chain: Chain, member_number: str) -> Member:
    """The chain's member with this number (looked up by its keyed hash)."""
    member = Member.objects.filter(chain=chain, member_number_hash=member_number_hash(member_number)).first()
    if member is None:
        raise CommandError(f"No member number {member_number!r} in {chain.name}.")
    return member


def day(value: str, option: str = "") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option + ' ' if option else ''}{value!r} is not a date (YYYY-MM-DD).") from None

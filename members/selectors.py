"""Reads of member data used in several places. Always start from a Scope (justface.tenancy)."""

from __future__ import annotations

import re
from datetime import date
from enum import Enum

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from justface import crypto
from justface.tenancy import Scope
from members.models import (
    Exclusion,
    FaceTemplate,
    Invitation,
    Member,
    email_hash,
    member_number_hash,
    name_birth_hash,
    phone_hash,
)


def members_visible_to(scope: Scope) -> QuerySet[Member]:
    return scope.filter(Member.objects.select_related("home_centre", "chain"))


class SearchKind(str, Enum):
    EMAIL = "email"
    PHONE_OR_NUMBER = "phone_or_number"
    NAME_OR_NUMBER = "name_or_number"


_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")


def classify_search(term: str) -> SearchKind:
    term = term.strip()
    if "@" in term:
        return SearchKind.EMAIL
    if _PHONE_LIKE.match(term):
        return SearchKind.PHONE_OR_NUMBER
    return SearchKind.NAME_OR_NUMBER


def search_members(queryset: QuerySet[Member], term: str) -> QuerySet[Member]:
    """Exact look-ups through the keyed hashes; names by whole words (every word must match).

    Encrypted columns cannot be searched by the database, so we search hashes of normalised
    values: an e-mail, a phone number or a member number exactly, a name word exactly (case and
    accents ignored, in any order: 'jensen anne' finds Anne Marie Jensen)."""
    term = term.strip()
    if not term:
        return queryset
    kind = classify_search(term)
    if kind is SearchKind.EMAIL:
        return queryset.filter(email_hash=email_hash(term))
    number = Q(member_number_hash=member_number_hash(term))
    if kind is SearchKind.PHONE_OR_NUMBER:
        return queryset.filter(number | Q(phone_hash=phone_hash(term)))
    tokens = crypto.name_tokens(term)
    if not tokens:
        return queryset.none()
    by_name = Q()
    for token in tokens:
        by_name &= Q(name_index__contains=crypto.name_token_hash(token))
    return queryset.filter(number | by_name)


def exclusion_in_force(member: Member, *, on: date | None = None) -> Exclusion | None:
    """The quarantine that bars this member (by record or by member number) on the given day."""
    day = on or timezone.localdate()
    candidates = (
        Exclusion.objects.filter(chain_id=member.chain_id)
        .filter(Q(member=member) | Q(member_number_hash=member.member_number_hash))
        .filter(starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    )
    return candidates.first()


def exclusions_matching(
    *,
    chain_id: int,
    member_number: str = "",
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    birth_date: date | None = None,
    on: date | None = None,
) -> QuerySet[Exclusion]:
    """Exclusions of the chain in force on the day whose keyed hashes match the person: member
    number, e-mail, phone, or name with birth date (checked when a member is created or invited)."""
    day = on or timezone.localdate()
    match = Q(pk__in=[])
    if member_number:
        match |= Q(member_number_hash=member_number_hash(member_number))
    if email:
        match |= Q(email_hash=email_hash(email))
    if phone:
        match |= Q(phone_hash=phone_hash(phone))
    if birth_date and (first_name or last_name):
        match |= Q(name_birth_hash=name_birth_hash(first_name, last_name, birth_date))
    return (
        Exclusion.objects.filter(chain_id=chain_id)
        .filter(match)
        .filter(starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("pk")
    )


def exclusions_matching_member(member: Member, *, on: date | None = None) -> QuerySet[Exclusion]:
    """The exclusions in force that match a member (saved or about to be created)."""
    return exclusions_matching(
        chain_id=member.chain_id,
        member_number=member.member_number,
        email=member.email,
        phone=member.phone,
        first_name=member.first_name,
        last_name=member.last_name,
        birth_date=member.birth_date,
        on=on,
    )


# The effects of data-subject requests (members.services.apply_request_effect). One rule each,
# asked by the door, the statistics and anything that would send marketing.

FACE_PAUSED_RESTRICTED = "restricted"


def face_entry_paused(member: Member) -> str | None:
    """Why face entry may not be used for this member now (None: it may). While a restriction
    (Art. 18) is in force the template is kept but never lets the member in; the PIN still works."""
    if member.restricted_since is not None:
        return FACE_PAUSED_RESTRICTED
    return None


# A member's check-ins count in the statistics unless one of these is set: a restriction in force,
# an objection to statistics. The one rule behind both forms below.
_NOT_IN_STATISTICS = ("restricted_since", "objects_to_statistics_since")


def counted_in_statistics(member: Member | None) -> bool:
    """Whether the member's check-ins may be counted in the centre's statistics: not while their
    data is restricted, nor once they have objected to statistics (no member: counted)."""
    return member is None or all(getattr(member, field) is None for field in _NOT_IN_STATISTICS)


def counted_in_statistics_q(member_path: str = "") -> Q:
    """counted_in_statistics as a filter, for rows that point to a member through `member_path`
    (e.g. "member" for visits and access events; "" for members). A row without a member counts."""
    prefix = f"{member_path}__" if member_path else ""
    return Q(**{f"{prefix}{field}": None for field in _NOT_IN_STATISTICS})


def may_receive_marketing(member: Member) -> bool:
    """The member-side rule for direct marketing (besides a marketing consent): never while
    restricted or after an objection (Art. 21(3)), nor after the membership ended."""
    return member.restricted_since is None and member.objects_to_marketing_since is None


def face_models_by_chain(chain_ids) -> dict[int, dict[str, int]]:
    """{chain id: {model name: members with at least one template of it}}: how far a move
    between face models has come (staff see it on the chain; `reenroll_faces --status`)."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        FaceTemplate.objects.filter(member__chain_id__in=list(chain_ids))
        .values_list("member__chain_id", "model_name")
        .annotate(n=Count("member_id", distinct=True))
    )
    for chain_id, model, n in rows.order_by("member__chain_id", "model_name"):
        counts.setdefault(chain_id, {})[model] = n
    return counts


def member_for(user) -> Member | None:
    """The member a login belongs to (None for staff and anonymous): the portal's and the member API's one look-up."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("chain", "home_centre").filter(user=user).first()


def members_to_invite(*, chain_id: int, centre_id: int | None = None) -> QuerySet[Member]:
    """Members an invitation round invites (members.invitation_rounds): an e-mail address, no
    portal login, the membership not ended, and no invitation on its way or still usable."""
    live = Invitation.objects.filter(
        member=OuterRef("pk"),
        used_at=None,
        expires_at__gt=timezone.now(),
        delivery__in=[Invitation.Delivery.QUEUED, Invitation.Delivery.SENT],
    )
    members = (
        Member.objects.filter(chain_id=chain_id, user=None)
        .exclude(email_hash="")
        .exclude(status=Member.Status.ENDED)
        .filter(~Exists(live))
    )
    return members.filter(home_centre_id=centre_id) if centre_id else members

"""Exclusions (quarantines): creating one, and checking a membership against those in force."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from justface import audit
from members.models import Exclusion, Member
from members.selectors import exclusions_matching_member


def check_exclusions(*, member: Member, actor, when: str) -> list[Exclusion]:
    """The membership check against the exclusion list (`when`: "create" or "invite"): the
    exclusions in force that match the person. Where the chain's exclusion_refuses_membership is
    on, a match refuses (ValidationError); otherwise the caller warns the staff. Each match is an
    audit entry (ids only)."""
    found = list(exclusions_matching_member(member))
    for exclusion in found:
        audit.record(
            action="exclusion.match", actor=actor, obj=exclusion, reason=f"{when}; member {member.pk or 'new'}"
        )
    if found and member.chain.policy.exclusion_refuses_membership:
        raise ValidationError(exclusion_warning(found, refused=True), code="excluded")
    return found


def exclusion_warning(found: list[Exclusion], *, refused: bool = False) -> str:
    ids = ", ".join(
        f"#{e.pk} ({_('permanent') if e.ends_on is None else _('until %(day)s') % {'day': e.ends_on.isoformat()}})"
        for e in found
    )
    if refused:
        return _(
            "This person matches the exclusion list (%(ids)s): this chain refuses a membership while it lasts."
        ) % {"ids": ids}
    return _("Warning: this person matches the exclusion list (%(ids)s). Check with a manager before going on.") % {
        "ids": ids
    }


def create_exclusion(
    *,
    chain,
    actor,
    full_name: str,
    category: str,
    starts_on,
    ends_on,
    reason: str = "",
    letter: str = "",
    member: Member | None = None,
    member_number: str = "",
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    birth_date=None,
) -> Exclusion:
    """Put a person on the chain's exclusion list, within the chain's limits (Exclusion.clean).
    From a member: their number, name and the hashes of their e-mail, phone, name and birth date."""
    if member is not None:
        if member.chain_id != chain.pk:
            raise ValidationError(_("The member belongs to another chain."))
        member_number, full_name = member.member_number, member.full_name
        email, phone, first_name, last_name, birth_date = (
            member.email,
            member.phone,
            member.first_name,
            member.last_name,
            member.birth_date,
        )
    exclusion = Exclusion(
        chain=chain,
        member=member,
        member_number=member_number,
        full_name=full_name,
        category=category,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        letter=letter,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    exclusion.set_identity(
        email=email,
        phone=phone,
        first_name=first_name or full_name,
        last_name=last_name if first_name else "",
        birth_date=birth_date,
    )
    exclusion.full_clean(exclude=["member", "created_by"])
    with transaction.atomic():
        exclusion.save()
        audit.record(action="exclusion.add", actor=actor, obj=exclusion, reason=category)
    return exclusion

"""Who may see and do what: the one place every view, admin page, API and export asks.

A staff user belongs to one chain (members.StaffRole). Their `Scope` filters any queryset of a
chain-owned model down to what the role may see, using two class attributes each such model
declares:

    tenancy_chain_path   the lookup from the model to its chain id ("chain", "centre__chain")
    tenancy_centre_path  the lookup to the centre that limits front-desk staff, or None when
                         the data belongs to the chain as a whole
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    MANAGER = "manager", _("Manager")
    DPO = "dpo", _("Data protection officer")


class Perm(enum.Enum):
    VIEW_MEMBERS = "view_members"
    EDIT_MEMBERS = "edit_members"
    EXPORT_MEMBERS = "export_members"
    VIEW_AUDIT = "view_audit"
    VIEW_CHAIN_SETUP = "view_chain_setup"  # centres, doors, consent documents, staff
    ANSWER_REQUESTS = "answer_requests"  # data-subject requests: record progress and the answer
    EDIT_CHAIN_SETUP = "edit_chain_setup"
    RUN_REPORTS = "run_reports"  # access reports: events with member numbers, chain-wide
    VIEW_STATISTICS = "view_statistics"  # anonymous hourly counts (front desk: their centres)
    VIEW_REGISTER = "view_register"  # the processing register and the DPIA fact sheet
    # A new face photo that does not match the member's enrolled face: approve or reject it
    # ; the front desk sees it, a manager decides.
    APPROVE_FACES = "approve_faces"
    # Whole-chain member work: import a file of members, invite everyone without a login.
    BULK_MEMBERS = "bulk_members"


_GRANTS: dict[str, frozenset[Perm]] = {
    Role.FRONT_DESK: frozenset({Perm.VIEW_MEMBERS, Perm.EDIT_MEMBERS, Perm.VIEW_CHAIN_SETUP, Perm.VIEW_STATISTICS}),
    Role.MANAGER: frozenset(
        {
            Perm.VIEW_MEMBERS,
            Perm.EDIT_MEMBERS,
            Perm.EXPORT_MEMBERS,
            Perm.VIEW_CHAIN_SETUP,
            Perm.EDIT_CHAIN_SETUP,
            Perm.ANSWER_REQUESTS,
            Perm.RUN_REPORTS,
            Perm.VIEW_STATISTICS,
            Perm.VIEW_REGISTER,
            Perm.APPROVE_FACES,
            Perm.BULK_MEMBERS,
        }
    ),
    # The DPO reads everything of the chain, the trail included, and changes nothing but the
    # answers to data-subject requests, which are theirs to give: an erasure request's erasure
    # included (README, *Demo logins*; the request's page says so).
    Role.DPO: frozenset(
        {
            Perm.VIEW_MEMBERS,
            Perm.EXPORT_MEMBERS,
            Perm.VIEW_AUDIT,
            Perm.VIEW_CHAIN_SETUP,
            Perm.ANSWER_REQUESTS,
            Perm.RUN_REPORTS,
            Perm.VIEW_STATISTICS,
            Perm.VIEW_REGISTER,
        }
    ),
}


@dataclass(frozen=True)
class Scope:
    user_id: int | None = None
    role: str | None = None
    chain_id: int | None = None
    centre_ids: frozenset[int] = field(default_factory=frozenset)
    is_platform: bool = False

    @property
    def is_staff(self) -> bool:
        return self.is_platform or self.role is not None

    def can(self, perm: Perm) -> bool:
        if self.is_platform:
            return True
        return self.role is not None and perm in _GRANTS[self.role]

    def filter(self, queryset: models.QuerySet) -> models.QuerySet:
        """`queryset` narrowed to what this scope may see; empty for anyone without a role."""
        if self.is_platform:
            return queryset
        if self.role is None:
            return queryset.none()
        model = queryset.model
        chain_path = getattr(model, "tenancy_chain_path", None)
        if chain_path is None:
            raise TypeError(f"{model.__name__} declares no tenancy_chain_path; it cannot be scoped.")
        queryset = queryset.filter(**{chain_path: self.chain_id})
        centre_path = getattr(model, "tenancy_centre_path", None)
        if self.role == Role.FRONT_DESK and centre_path:
            queryset = queryset.filter(**{f"{centre_path}__in": self.centre_ids})
        return queryset

    def contains(self, obj: models.Model) -> bool:
        """Whether `obj` (saved or not) lies inside this scope: used before writes."""
        if self.is_platform:
            return True
        if obj.pk is not None:
            return self.filter(type(obj)._default_manager.filter(pk=obj.pk)).exists()
        return self._unsaved_chain_id(obj) == self.chain_id

    @staticmethod
    def _unsaved_chain_id(obj: models.Model) -> int | None:
        *hops, last = type(obj).tenancy_chain_path.split("__")
        value = obj
        for hop in hops:
            value = getattr(value, hop, None)
            if value is None:
                return None
        return getattr(value, last if last.endswith("id") else f"{last}_id", None)


NO_ACCESS = Scope()


def scope_for(user) -> Scope:
    """The scope of a (possibly anonymous) user; memoised on the user object per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, "_justface_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(user_id=user.pk, is_platform=True)
    else:
        # members.StaffRole, reached through its related name so this layer imports no app above it.
        staff_role = getattr(user, "staff_role", None)
        if staff_role is None:
            scope = Scope(user_id=user.pk)
        else:
            scope = Scope(
                user_id=user.pk,
                role=staff_role.role,
                chain_id=staff_role.chain_id,
                centre_ids=frozenset(staff_role.centres.values_list("id", flat=True)),
            )
    user._justface_scope = scope
    return scope

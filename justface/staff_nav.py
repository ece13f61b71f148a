"""The staff navigation, built from what the user's role may open: the admin's
front page, the staff desk and the 403 page all list these, so no one is offered a page that
answers 403. Each entry names the permission its page checks (justface.tenancy)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from justface.tenancy import Perm, scope_for


@dataclass(frozen=True)
class Entry:
    key: str
    label: object
    help: object
    url_name: str
    perm: Perm | None  # None: every staff member
    query: str = ""


ENTRIES = (
    Entry(
        "desk",
        _("Face enrollment at the desk"),
        _("Find a member, take their consent and their face photo at the counter."),
        "staff:front-desk",
        Perm.EDIT_MEMBERS,
    ),
    Entry(
        "face-reviews",
        _("Face photos awaiting review"),
        _("New face photos that did not match the member's enrolled face: compare and decide."),
        "staff:front-desk-reviews",
        Perm.EDIT_MEMBERS,
    ),
    Entry(
        "statistics",
        _("Statistics per centre and hour"),
        _("Visits per hour and day, without names."),
        "staff:statistics",
        Perm.VIEW_STATISTICS,
    ),
    Entry(
        "liveness",
        _("Failed liveness checks per door and hour"),
        _("Photos or screens tried at a door: bursts are flagged."),
        "admin:access_accessevent_liveness",
        Perm.VIEW_MEMBERS,
    ),
    Entry(
        "door-status",
        _("Door status"),
        _("Each door open or closed, its agent online or not, forced and held-open alarms."),
        "staff:door-status",
        Perm.VIEW_MEMBERS,
    ),
    Entry(
        "door-liveness",
        _("Liveness per door"),
        _("How each door's camera has been calibrated: live-score spread and challenge rate."),
        "staff:door-liveness",
        Perm.VIEW_CHAIN_SETUP,
    ),
    Entry(
        "reports",
        _("Access reports (CSV, XLSX)"),
        _("Access events of a period as a spreadsheet."),
        "staff:access-report",
        Perm.RUN_REPORTS,
    ),
    Entry(
        "requests",
        _("Data-protection requests"),
        _("Access, erasure and other requests from members, with their deadlines."),
        "admin:members_datasubjectrequest_changelist",
        Perm.EXPORT_MEMBERS,
    ),
    Entry(
        "exclusions",
        _("Exclusions"),
        _("People who may not enter, and until when."),
        "admin:members_exclusion_changelist",
        Perm.EXPORT_MEMBERS,
    ),
    Entry(
        "register",
        _("Processing register (Art. 30)"),
        _("What the chain processes, why and for how long."),
        "staff:register",
        Perm.VIEW_REGISTER,
    ),
    Entry(
        "dpia",
        _("Biometrics DPIA fact sheet"),
        _("The facts for the chain's impact assessment of face scans."),
        "staff:dpia",
        Perm.VIEW_REGISTER,
    ),
    Entry(
        "audit",
        _("Audit trail"),
        _("Who read, exported, changed or erased what, and when."),
        "admin:justface_auditentry_changelist",
        Perm.VIEW_AUDIT,
    ),
    Entry("language", _("My language"), _("The language of the admin and the desk."), "staff:language", None),
)


def entries_for(user) -> list[dict]:
    """The pages this user may open, in order, with their addresses."""
    if not (user.is_authenticated and user.is_staff):
        return []
    scope = scope_for(user)
    return [
        {"key": e.key, "label": e.label, "help": e.help, "url": reverse(e.url_name) + e.query}
        for e in ENTRIES
        if (e.perm is None or scope.can(e.perm)) and not (scope.is_platform and e.key in PER_CHAIN)
    ]


PER_CHAIN = ("register", "dpia")  # the platform operator opens these per chain, from the desk

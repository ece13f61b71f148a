"""Everything held about a member, for the access page and the portability export.

Each app contributes what it holds through a provider registered here, in a `subject_data`
module of its own (found like admin.py modules: django's autodiscover_modules). So members,
the lowest of these apps, lists consent records and check-ins without importing consent or
access: the imports keep pointing downwards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from members.models import DataSubjectRequest, FaceTemplate, Member, PendingFacePhoto
from members.processing import activity, days_after_end  # noqa: F401 (days_after_end: re-exported)


@dataclass(frozen=True)
class Category:
    """One kind of data held: what it is, why, on what legal basis, how long, and the data."""

    key: str  # file name in the export
    title: str
    purpose: str
    legal_basis: str
    retention: str
    data: Any  # JSON-ready
    labels: dict[str, str] = field(default_factory=dict)  # data key -> heading on the access page
    photos: tuple[str, ...] = field(default=())  # justface.private_files names, exported as images
    # For the access page only (the export keeps the codes): data key -> justface.display kind of
    # its codes, and the keys shown folded under "Details" (fingerprints, browsers, addresses).
    codes: dict[str, str] = field(default_factory=dict)
    details: tuple[str, ...] = field(default=())


Provider = Callable[[Member], Category]
_providers: dict[str, tuple[int, Provider]] = {}


def provider(key: str, *, order: int) -> Callable[[Provider], Provider]:
    def register(fn: Provider) -> Provider:
        _providers[key] = (order, fn)
        return fn

    return register


@cache
def _discover() -> None:
    autodiscover_modules("subject_data")


def held_about(member: Member) -> list[Category]:
    _discover()
    return [fn(member) for _, fn in sorted(_providers.values(), key=lambda entry: entry[0])]


# Check-ins are access's data; their purpose, legal basis and retention are declared in
# members.processing with the others, the headings live here in members' catalogue.
CHECKIN_TEXTS = dict(
    title=_("Your check-ins"),
    labels={
        "at": _("When"),
        "centre": _("Centre"),
        "door": _("Door"),
        "method": _("How"),
        "direction": _("In or out"),
        "decision": _("Result"),
        "reason": _("Reason"),
        "flag": _("Noted for staff"),
    },
    codes={
        "method": "access.method",
        "direction": "access.direction",
        "decision": "access.decision",
        "reason": "access.reason",
        "flag": "access.flag",
    },
)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@provider("profile", order=10)
def profile(member: Member) -> Category:
    return Category(
        key="profile",
        title=_("Your profile and membership"),
        **activity("membership").notice(member.chain.policy),
        data={
            "member_number": member.member_number,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "phone": member.phone,
            "address": member.address,
            "birth_date": _iso(member.birth_date),
            "gender": member.gender,
            "guardian_name": member.guardian_name,
            "guardian_email": member.guardian_email,
            "chain": member.chain.name,
            "home_centre": member.home_centre.name,
            "status": member.status,
            "membership_type": member.membership_type,
            "start_date": _iso(member.start_date),
            "end_date": _iso(member.end_date),
            "login_created_at": _iso(member.user.date_joined) if member.user else None,
            "last_login_at": _iso(member.user.last_login) if member.user else None,
        },
        labels={
            "member_number": _("Member number"),
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "email": _("E-mail"),
            "phone": _("Phone"),
            "address": _("Address"),
            "birth_date": _("Birth date"),
            "gender": _("Gender"),
            "guardian_name": _("Guardian"),
            "guardian_email": _("Guardian's e-mail"),
            "chain": _("Chain"),
            "home_centre": _("Home centre"),
            "status": _("Membership status"),
            "membership_type": _("Membership type"),
            "start_date": _("Start date"),
            "end_date": _("End date"),
            "login_created_at": _("Login created"),
            "last_login_at": _("Last login"),
        },
        codes={"gender": "member.gender", "status": "member.status"},
    )


@provider("face", order=30)
def face(member: Member) -> Category:
    templates = list(FaceTemplate.objects.filter(member=member).order_by("created_at"))
    # A new photo that did not match the enrolled face and waits for staff (issue #21).
    pending = list(PendingFacePhoto.objects.filter(member=member))
    return Category(
        key="face",
        title=_("Face template and photo"),
        **activity("face").notice(member.chain.policy),
        # The template itself is a vector of numbers only our face engine can use; its presence is what matters here.
        data=[
            {
                "enrolled_at": _iso(t.created_at),
                "face_model": t.model_name,
                "photo_kept": bool(t.photo_file),
                "awaiting_review": False,
            }
            for t in templates
        ]
        + [
            {"enrolled_at": _iso(p.created_at), "face_model": p.model_name, "photo_kept": True, "awaiting_review": True}
            for p in pending
        ],
        labels={
            "enrolled_at": _("Enrolled"),
            "face_model": _("Face model"),
            "photo_kept": _("Photo kept"),
            "awaiting_review": _("New photo awaiting staff review"),
        },
        details=("face_model",),
        photos=tuple(t.photo_file for t in templates if t.photo_file) + tuple(p.photo_file for p in pending),
    )


@provider("face_history", order=35)
def face_history(member: Member) -> Category:
    # Not biometric: only that (and when) the member deleted an enrolled face (issue #21).
    return Category(
        key="face_history",
        title=_("Earlier face enrollment"),
        **activity("face_history").notice(member.chain.policy),
        data={"face_data_deleted_on": _iso(member.face_erased_on)},
        labels={"face_data_deleted_on": _("Face data deleted on (your next photo is checked by staff)")},
    )


@provider("pin", order=40)
def pin(member: Member) -> Category:
    return Category(
        key="pin",
        title=_("Door PIN"),
        **activity("pin").notice(member.chain.policy),
        # Only a one-way hash of the PIN is stored: nobody can read the PIN itself.
        data={"pin_set": bool(member.pin_hash), "pin_set_at": _iso(member.pin_set_at)},
        labels={"pin_set": _("PIN set"), "pin_set_at": _("Set on")},
    )


@provider("requests", order=60)
def requests(member: Member) -> Category:
    rows = DataSubjectRequest.objects.filter(member=member).order_by("received_at")
    return Category(
        key="requests",
        title=_("Your data-protection requests"),
        **activity("requests").notice(member.chain.policy),
        data=[
            {
                "kind": r.kind,
                "objection_to": r.objection_to,
                "message": r.message,
                "status": r.status,
                "received_at": _iso(r.received_at),
                "due_at": _iso(r.due_at),
                "resolved_at": _iso(r.resolved_at),
                "response": r.response,
            }
            for r in rows
        ],
        labels={
            "kind": _("Request"),
            "objection_to": _("Objection to"),
            "message": _("Your message"),
            "status": _("Status"),
            "received_at": _("Received"),
            "due_at": _("Due"),
            "resolved_at": _("Resolved"),
            "response": _("Answer"),
        },
        codes={"kind": "request.kind", "objection_to": "request.objection", "status": "request.status"},
    )

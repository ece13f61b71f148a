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
from django.utils.translation import ngettext

from members.models import DataSubjectRequest, FaceTemplate, Member


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


# Check-ins are access's data, but their retention is the chain's policy (members.policy): the
# words describing them live here, beside that policy, in members' catalogue.
CHECKIN_TEXTS = dict(
    title=_("Your check-ins"),
    purpose=_("Access control and support; counted without names in statistics for the centre."),
    legal_basis=_("Contract (GDPR Art. 6(1)(b)); statistics: legitimate interest (Art. 6(1)(f))."),
    labels={"at": _("When"), "centre": _("Centre"), "door": _("Door"), "method": _("How"), "direction": _("In or out"),
            "decision": _("Result"), "reason": _("Reason")},
)


def days_after_end(days: int) -> str:
    if days == 0:
        return str(_("Deleted when the membership ends."))
    return ngettext("Kept until %(days)d day after the membership ends.",
                    "Kept until %(days)d days after the membership ends.", days) % {"days": days}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@provider("profile", order=10)
def profile(member: Member) -> Category:
    return Category(
        key="profile", title=_("Your profile and membership"),
        purpose=_("Running your membership: contract, contact and access to the centres."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
        retention=days_after_end(member.chain.policy.checkins_retention_days),
        data={
            "member_number": member.member_number, "first_name": member.first_name, "last_name": member.last_name,
            "email": member.email, "phone": member.phone, "address": member.address,
            "birth_date": _iso(member.birth_date), "gender": member.gender,
            "guardian_name": member.guardian_name, "guardian_email": member.guardian_email,
            "chain": member.chain.name, "home_centre": member.home_centre.name, "status": member.status,
            "membership_type": member.membership_type, "start_date": _iso(member.start_date), "end_date": _iso(member.end_date),
            "login_created_at": _iso(member.user.date_joined) if member.user else None,
            "last_login_at": _iso(member.user.last_login) if member.user else None,
        },
        labels={"member_number": _("Member number"), "first_name": _("First name"), "last_name": _("Last name"),
                "email": _("E-mail"), "phone": _("Phone"), "address": _("Address"), "birth_date": _("Birth date"),
                "gender": _("Gender"), "guardian_name": _("Guardian"), "guardian_email": _("Guardian's e-mail"),
                "chain": _("Chain"), "home_centre": _("Home centre"), "status": _("Membership status"),
                "membership_type": _("Membership type"), "start_date": _("Start date"), "end_date": _("End date"),
                "login_created_at": _("Login created"), "last_login_at": _("Last login")},
    )


@provider("face", order=30)
def face(member: Member) -> Category:
    templates = list(FaceTemplate.objects.filter(member=member).order_by("created_at"))
    days = member.chain.policy.biometric_retention_days
    end = str(_("at the end of the membership")) if days == 0 else ngettext(
        "%(days)d day after the membership ends", "%(days)d days after the membership ends", days) % {"days": days}
    return Category(
        key="face", title=_("Face template and photo"),
        purpose=_("Recognising you at the door, only with your explicit consent; your PIN always works instead."),
        legal_basis=_("Your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a))."),
        retention=_("Deleted at once when you withdraw your consent, otherwise %(end)s.") % {"end": end},
        # The template itself is a vector of numbers only our face engine can use; its presence is what matters here.
        data=[{"enrolled_at": _iso(t.created_at), "face_model": t.model_name, "photo_kept": bool(t.photo_file)} for t in templates],
        labels={"enrolled_at": _("Enrolled"), "face_model": _("Face model"), "photo_kept": _("Photo kept")},
        photos=tuple(t.photo_file for t in templates if t.photo_file),
    )


@provider("pin", order=40)
def pin(member: Member) -> Category:
    return Category(
        key="pin", title=_("Door PIN"),
        purpose=_("Letting you in without face scan."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
        retention=str(_("Deleted when the membership ends.")),
        # Only a one-way hash of the PIN is stored: nobody can read the PIN itself.
        data={"pin_set": bool(member.pin_hash), "pin_set_at": _iso(member.pin_set_at)},
        labels={"pin_set": _("PIN set"), "pin_set_at": _("Set on")},
    )


@provider("requests", order=60)
def requests(member: Member) -> Category:
    rows = DataSubjectRequest.objects.filter(member=member).order_by("received_at")
    return Category(
        key="requests", title=_("Your data-protection requests"),
        purpose=_("Answering your requests and proving that we did."),
        legal_basis=_("Legal obligation (GDPR Art. 6(1)(c))."),
        retention=days_after_end(member.chain.policy.checkins_retention_days),
        data=[{"kind": r.kind, "objection_to": r.objection_to, "message": r.message, "status": r.status,
               "received_at": _iso(r.received_at), "due_at": _iso(r.due_at), "resolved_at": _iso(r.resolved_at),
               "response": r.response} for r in rows],
        labels={"kind": _("Request"), "objection_to": _("Objection to"), "message": _("Your message"), "status": _("Status"),
                "received_at": _("Received"), "due_at": _("Due"), "resolved_at": _("Resolved"), "response": _("Answer")},
    )

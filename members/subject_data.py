"""What members holds about a member, as the access page and the portability export show it.

Each function is one category of the "my data" page; members.personal_data registers them with
the personal-data registry (justface.personal_data), whose held_about lists every app's: so
members shows consent records and check-ins without importing consent or access."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from justface.personal_data import Category, activity, held_about  # noqa: F401 (held_about: re-exported)
from members.models import DataSubjectRequest, FaceTemplate, Member, PendingFacePhoto


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def profile(member: Member) -> Category:
    return Category(
        key="profile",
        order=10,
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


def face(member: Member) -> Category:
    templates = list(FaceTemplate.objects.filter(member=member).order_by("created_at"))
    # A new photo that did not match the enrolled face and waits for staff.
    pending = list(PendingFacePhoto.objects.filter(member=member))
    return Category(
        key="face",
        order=30,
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


def face_history(member: Member) -> Category:
    # Not biometric: only that (and when) the member deleted an enrolled face.
    return Category(
        key="face_history",
        order=35,
        title=_("Earlier face enrollment"),
        **activity("face_history").notice(member.chain.policy),
        data={"face_data_deleted_on": _iso(member.face_erased_on)},
        labels={"face_data_deleted_on": _("Face data deleted on (your next photo is checked by staff)")},
    )


def pin(member: Member) -> Category:
    return Category(
        key="pin",
        order=40,
        title=_("Door PIN"),
        **activity("pin").notice(member.chain.policy),
        # Only a one-way hash of the PIN is stored: nobody can read the PIN itself.
        data={"pin_set": bool(member.pin_hash), "pin_set_at": _iso(member.pin_set_at)},
        labels={"pin_set": _("PIN set"), "pin_set_at": _("Set on")},
    )


def requests(member: Member) -> Category:
    rows = DataSubjectRequest.objects.filter(member=member).order_by("received_at")
    return Category(
        key="requests",
        order=60,
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

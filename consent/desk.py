"""Front-desk enrollment: staff take the photo at the desk once the member has signed the
biometric consent on the desk's screen as themself (typing their own portal password, so the
signature is theirs, not the staff member's). Staff pages (justface.staff_pages.staff_page, under
/staff/front-desk/): everything goes through the staff's tenancy scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent import selectors
from consent.enrollment import ReviewError, approve_pending_photo, enroll_face, reject_pending_photo
from consent.facts import biometric_facts
from consent.models import ConsentDocument, ConsentRecord
from consent.portal.forms import ApproveFaceForm, DeskSignForm, PhotoForm
from consent.portal.views import sign_from_form
from justface import audit, private_files, throttle
from justface.middleware import uses_camera
from justface.staff_pages import staff_page
from justface.tenancy import Perm
from members.models import FaceTemplate, PendingFacePhoto
from members.selectors import members_visible_to, search_members

Kind = ConsentDocument.Kind


@staff_page(Perm.EDIT_MEMBERS)
def search(request):
    scope = request.scope
    term = request.GET.get("q", "").strip()
    found = list(search_members(members_visible_to(scope), term)[:20]) if term else []
    if term:
        audit.record(
            action="member.list",
            actor=request.user,
            object_type="members.member",
            chain_id=scope.chain_id,
            reason="desk search",
        )
    pending = scope.filter(PendingFacePhoto.objects.all()).count()
    return render(request, "consent/desk/search.html", {"term": term, "found": found, "pending": pending})


def _signature_check(request, member, form) -> bool:
    """The member proves on the desk screen that it is them: their own portal password."""
    identifier = member.user.username
    if throttle.blocked(throttle.LOGIN, identifier=identifier, address=throttle.client_address(request)):
        form.add_error(None, _("Too many attempts. Wait a quarter of an hour and try again."))
        return False
    if authenticate(request, username=identifier, password=form.cleaned_data["password"]) is None:
        throttle.failed(throttle.LOGIN, identifier=identifier, address=throttle.client_address(request))
        form.add_error("password", _("That is not the member's password."))
        return False
    return True


@uses_camera
@staff_page(Perm.EDIT_MEMBERS)
def member_page(request, member_id: int):
    scope = request.scope
    member = get_object_or_404(members_visible_to(scope), pk=member_id)
    state = selectors.consent_state(member, Kind.BIOMETRIC, get_language())
    action = request.POST.get("action")
    sign_form = DeskSignForm(request.POST if action == "sign" else None, guardian=selectors.is_minor(member))
    photo_form = PhotoForm(request.POST if action == "photo" else None, request.FILES if action == "photo" else None)
    if (
        action == "sign"
        and member.user is not None
        and state.document is not None
        and sign_form.is_valid()
        and _signature_check(request, member, sign_form)
        and sign_from_form(
            request, member=member, document=state.document, form=sign_form, channel=ConsentRecord.Channel.DESK
        )
    ):
        messages.success(request, _("The consent is signed."))
        return redirect("staff:front-desk-member", member_id=member.pk)
    if action == "photo" and photo_form.is_valid():
        outcome = enroll_face(
            member=member,
            image=photo_form.cleaned_data["photo"],
            actor=request.user,
            channel=PendingFacePhoto.Channel.DESK,
        )
        if outcome.ok:
            messages.success(request, _("The face is enrolled."))
            return redirect("staff:front-desk-member", member_id=member.pk)
        if outcome.pending_review:
            # The same rule as the member's own photo: a face that does not match the enrolled
            # one needs a second, explicit confirmation by staff with the right to approve it.
            if member.face_erased_on is not None and not FaceTemplate.objects.filter(member=member).exists():
                warning = _(
                    "This member deleted their face data before, so a new face is not enrolled at once. "
                    "Compare the photo with the member in person; a manager must approve it."
                )
            else:
                warning = _(
                    "This photo does not match the face enrolled for this member, so it is not enrolled. "
                    "Compare the two photos; a manager must approve it."
                )
            messages.warning(request, warning)
            return redirect("staff:front-desk-review", member_id=member.pk)
        photo_form.add_error("photo", outcome.message)
    audit.record(action="member.view", actor=request.user, obj=member, reason="desk enrollment")
    return render(
        request,
        "consent/desk/member.html",
        {
            "member": member,
            "state": state,
            "active": state.active,
            "face": selectors.face_status(member),
            "pending": PendingFacePhoto.objects.filter(member=member).first(),
            "sign_form": sign_form,
            "photo_form": photo_form,
            "facts": biometric_facts(member.chain.policy),
        },
    )


@staff_page(Perm.EDIT_MEMBERS)
def member_photo(request, member_id: int):
    member = get_object_or_404(members_visible_to(request.scope), pk=member_id)
    template = FaceTemplate.objects.filter(member=member).exclude(photo_file="").order_by("-created_at", "-pk").first()
    if template is None:
        raise Http404
    audit.record(action="face.photo_view", actor=request.user, obj=member, reason="desk")
    return private_files.image_response(template.photo_file)


# --- new photos that do not match the enrolled face ------------------------------


@staff_page(Perm.EDIT_MEMBERS)
def reviews(request):
    """The photos awaiting review in the staff user's scope (their chain; front desk: their centres)."""
    scope = request.scope
    pending = list(scope.filter(PendingFacePhoto.objects.select_related("member__home_centre")))
    audit.record(
        action="member.list",
        actor=request.user,
        object_type="members.member",
        chain_id=scope.chain_id,
        reason="face photos awaiting review",
    )
    return render(
        request, "consent/desk/reviews.html", {"pending": pending, "can_decide": scope.can(Perm.APPROVE_FACES)}
    )


def _pending_of(request, member_id: int):
    scope = request.scope
    member = get_object_or_404(members_visible_to(scope), pk=member_id)
    pending = PendingFacePhoto.objects.filter(member=member).first()
    if pending is None:
        raise Http404
    return scope, member, pending


@staff_page(Perm.EDIT_MEMBERS)
def review(request, member_id: int):
    """Both photos side by side: the enrollment photo the chain keeps (or, where it keeps none,
    the member in person) and the new one; a manager approves (it is enrolled) or rejects (it
    is erased). Every look is audited; every decision too, by the services."""
    scope, member, pending = _pending_of(request, member_id)
    can_decide = scope.can(Perm.APPROVE_FACES)
    action = request.POST.get("action")
    form = ApproveFaceForm(request.POST if action == "approve" else None)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if action == "reject":
            reject_pending_photo(pending=pending, actor=request.user, reason="desk review")
            messages.success(request, _("The photo is rejected and erased. The enrolled face is unchanged."))
            return redirect("staff:front-desk-reviews")
        if action == "approve" and form.is_valid():
            try:
                approve_pending_photo(pending=pending, actor=request.user, reason="desk review")
            except ReviewError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The photo is approved and enrolled."))
                return redirect("staff:front-desk-reviews")
    enrolled = FaceTemplate.objects.filter(member=member).exclude(photo_file="").order_by("-created_at", "-pk").first()
    audit.record(action="member.view", actor=request.user, obj=member, reason="face review")
    return render(
        request,
        "consent/desk/review.html",
        {
            "member": member,
            "pending": pending,
            "enrolled_photo": enrolled is not None,
            # No template, only the day the member deleted their face data.
            "erased_on": None if FaceTemplate.objects.filter(member=member).exists() else member.face_erased_on,
            "can_decide": can_decide,
            "form": form,
        },
    )


@staff_page(Perm.EDIT_MEMBERS)
def review_photo(request, member_id: int):
    """The new photo awaiting review, for staff of the member's scope; audited like every photo read."""
    _, member, pending = _pending_of(request, member_id)
    audit.record(action="face.pending_view", actor=request.user, obj=member, reason="desk review")
    return private_files.image_response(pending.photo_file)

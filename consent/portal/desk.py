"""Front-desk enrollment: staff take the photo at the desk once the member has signed the
biometric consent on the desk's screen as themself (typing their own portal password, so the
signature is theirs, not the staff member's). Everything goes through the staff's tenancy scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent import selectors
from consent.enrollment import enroll_face
from consent.facts import biometric_facts
from consent.models import ConsentDocument, ConsentRecord
from consent.portal.forms import DeskSignForm, PhotoForm
from consent.portal.views import sign_from_form
from justface import audit, private_files, throttle
from justface.middleware import uses_camera
from justface.tenancy import Perm, scope_for
from members.selectors import members_visible_to, search_members

Kind = ConsentDocument.Kind


def _desk_scope(request):
    scope = scope_for(request.user)
    if not scope.can(Perm.EDIT_MEMBERS):
        raise PermissionDenied
    return scope


@staff_member_required
def search(request):
    scope = _desk_scope(request)
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
    return render(request, "consent/desk/search.html", {"term": term, "found": found})


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
@staff_member_required
def member_page(request, member_id: int):
    scope = _desk_scope(request)
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
        return redirect("portal:desk-member", member_id=member.pk)
    if action == "photo" and photo_form.is_valid():
        outcome = enroll_face(member=member, image=photo_form.cleaned_data["photo"], actor=request.user)
        if outcome.ok:
            messages.success(request, _("The face is enrolled."))
            return redirect("portal:desk-member", member_id=member.pk)
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
            "sign_form": sign_form,
            "photo_form": photo_form,
            "facts": biometric_facts(member.chain.policy),
        },
    )


@staff_member_required
def member_photo(request, member_id: int):
    member = get_object_or_404(members_visible_to(_desk_scope(request)), pk=member_id)
    template = selectors.face_status(member)
    if template is None or not template.photo_file:
        raise Http404
    audit.record(action="face.photo_view", actor=request.user, obj=member, reason="desk")
    return private_files.image_response(template.photo_file)

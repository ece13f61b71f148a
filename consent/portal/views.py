"""The member's consent and face pages, the portal's home, and the guardian's confirmation.
Thin: signing and withdrawing are consent.services', enrollment is consent.enrollment's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consent import selectors, services
from consent.enrollment import enroll_face
from consent.facts import biometric_facts
from consent.models import ConsentDocument, ConsentRecord, GuardianConfirmation
from consent.portal.forms import GuardianForm, PhotoForm, SignForm
from justface import private_files
from justface.middleware import uses_camera
from members.faces import erase_biometrics
from members.models import DataSubjectRequest, Member, PendingFacePhoto
from members.portal.access import member_required

Kind = ConsentDocument.Kind


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise Http404
    return kind


@member_required
def home(request):
    member = request.member
    states = selectors.consent_states(member, get_language())
    return render(
        request,
        "consent/portal/home.html",
        {
            "member": member,
            "states": states,
            "face": selectors.face_status(member),
            "renew_photo": selectors.needs_new_photo(member),
            "biometric_active": next(s.active for s in states if s.kind == Kind.BIOMETRIC),
            "open_requests": DataSubjectRequest.objects.filter(
                member=member, status__in=DataSubjectRequest.OPEN_STATUSES
            ).count(),
        },
    )


def sign_from_form(request, *, member: Member, document: ConsentDocument, form, channel: str) -> bool:
    """Sign with what a valid SignForm holds; refusals become form errors. True when signed."""
    try:
        services.sign(
            member=member,
            document=document,
            typed_name=form.cleaned_data["typed_name"],
            evidence=services.Evidence.of(request, channel),
            actor=member.user,
            guardian_name=form.cleaned_data.get("guardian_name", ""),
            guardian_email=form.cleaned_data.get("guardian_email", ""),
            request=request,
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return False
    return True


@member_required
def consent_page(request, kind: str):
    member = request.member
    state = selectors.consent_state(member, _kind(kind), get_language())
    guardian = kind == Kind.BIOMETRIC and selectors.is_minor(member)
    form = SignForm(
        request.POST or None,
        guardian=guardian,
        initial={"guardian_name": member.guardian_name, "guardian_email": member.guardian_email},
    )
    if (
        request.method == "POST"
        and state.document is not None
        and form.is_valid()
        and sign_from_form(
            request, member=member, document=state.document, form=form, channel=ConsentRecord.Channel.PORTAL
        )
    ):
        if guardian:
            messages.info(request, _("Thank you. We sent your guardian a link; face scan starts once they confirm."))
        elif kind == Kind.BIOMETRIC:
            messages.success(request, _("Thank you. Now add a photo of your face."))
            return redirect("portal:face")
        else:
            messages.success(request, _("Thank you, your consent is recorded."))
        return redirect("portal:home")
    return render(
        request,
        "consent/portal/consent.html",
        {
            "member": member,
            "state": state,
            "form": form,
            "kind": kind,
            "facts": biometric_facts(member.chain.policy),
            "withdrawable": kind in services.WITHDRAWABLE,
            "guardian": guardian,
        },
    )


@member_required
@require_POST
def withdraw(request, kind: str):
    try:
        record = services.withdraw(
            member=request.member,
            kind=_kind(kind),
            actor=request.user,
            evidence=services.Evidence.of(request, ConsentRecord.Channel.PORTAL),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:consent", kind=kind)
    return redirect("portal:receipt", record_id=record.pk)


@member_required
def receipt(request, record_id: int):
    record = get_object_or_404(
        ConsentRecord.objects.select_related("document"),
        pk=record_id,
        member=request.member,
        action=ConsentRecord.Action.WITHDRAW,
    )
    return render(request, "consent/portal/receipt.html", {"member": request.member, "record": record})


@uses_camera
@member_required
def face(request):
    member = request.member
    state = selectors.consent_state(member, Kind.BIOMETRIC, get_language())
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        outcome = enroll_face(member=member, image=form.cleaned_data["photo"], actor=request.user)
        if outcome.ok:
            messages.success(request, _("Your face is enrolled. Look at the door tablet next time you come in."))
            return redirect("portal:face")
        if outcome.pending_review:
            messages.warning(request, outcome.message)
            return redirect("portal:face")
        form.add_error("photo", outcome.message)
    return render(
        request,
        "consent/portal/face.html",
        {
            "member": member,
            "form": form,
            "active": state.active,
            "face": selectors.face_status(member),
            "state": state,
            "renew_photo": selectors.needs_new_photo(member),
            "pending": PendingFacePhoto.objects.filter(member=member).first(),
        },
    )


@member_required
@require_POST
def face_delete(request):
    receipt = erase_biometrics(member=request.member, actor=request.user, reason="member deleted face", remember=True)
    messages.success(
        request,
        _(
            "Your face template and photos are deleted (%(n)d template(s), %(p)d photo(s)). "
            "Your consent stands; add a new photo whenever you like, or withdraw it."
        )
        % {"n": receipt["face_templates"], "p": receipt["member_photos"]},
    )
    if receipt["face_templates"]:
        messages.info(
            request,
            _(
                "When you add a new photo, the staff check it once before the door uses it, so that nobody "
                "else's face is enrolled on your membership. We keep only the day you deleted your face data."
            ),
        )
    return redirect("portal:face")


@member_required
def face_photo(request):
    template = selectors.face_status(request.member)
    if template is None or not template.photo_file:
        raise Http404
    return private_files.image_response(template.photo_file)


def guardian_confirm(request, token: str):
    link = GuardianConfirmation.usable(token).select_related("member__chain", "signature__document").first()
    if link is None:
        return render(request, "members/portal/link_invalid.html", status=404)
    form = GuardianForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.confirm_as_guardian(
                token=token,
                typed_name=form.cleaned_data["typed_name"],
                evidence=services.Evidence.of(request, ConsentRecord.Channel.GUARDIAN_LINK),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            return render(
                request,
                "consent/portal/guardian_done.html",
                {"chain": link.member.chain, "first_name": link.member.first_name},
            )
    return render(
        request,
        "consent/portal/guardian.html",
        {
            "form": form,
            "document": link.signature.document,
            "chain": link.member.chain,
            "first_name": link.member.first_name,
            "facts": biometric_facts(link.member.chain.policy),
        },
    )

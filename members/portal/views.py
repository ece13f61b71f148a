"""The member's own pages: invitation, login and password reset, profile and e-mail change, PIN,
and the data-protection rights (what we hold, export, erasure and objection requests).
Thin: every write goes through members.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from justface import audit, personal_data, throttle
from justface.mail import public_url, send_on_commit
from members import services
from members.accounts import LoginResult, authenticate_member, members_for_email
from members.models import DataSubjectRequest, Invitation
from members.portal import forms
from members.portal.access import member_required


def _form_error(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


def login_view(request):
    form = forms.LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        result, member = authenticate_member(
            request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if result is LoginResult.OK:
            login(request, member.user)
            safe = url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            return redirect(next_url if safe and next_url else "portal:home")
        form.add_error(
            None,
            _("Too many attempts. Wait a quarter of an hour and try again, or reset your password.")
            if result is LoginResult.THROTTLED
            else _("That e-mail and password do not match a member login."),
        )
    return render(request, "members/portal/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("portal:login")


def accept_invitation(request, token: str):
    invitation = Invitation.usable(token).select_related("member__chain").first()
    if invitation is None:
        return render(request, "members/portal/link_invalid.html", status=404)
    form = forms.ChoosePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.accept_invitation(token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your login is ready."))
            return redirect("portal:home")
    return render(
        request,
        "members/portal/accept_invitation.html",
        {"form": form, "chain": invitation.member.chain, "first_name": invitation.member.first_name},
    )


def password_reset(request):
    form = forms.PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, address = form.cleaned_data["email"], throttle.client_address(request)
        if throttle.blocked(throttle.RESET, identifier=email, address=address):
            form.add_error(None, _("Too many requests. Wait a quarter of an hour and try again."))
        else:
            throttle.failed(throttle.RESET, identifier=email, address=address)  # every request counts
            for member in members_for_email(email):
                link = reverse(
                    "portal:password-reset-confirm",
                    kwargs={
                        "uidb64": urlsafe_base64_encode(force_bytes(member.user.pk)),
                        "token": default_token_generator.make_token(member.user),
                    },
                )
                send_on_commit(
                    to=member.email,
                    template="members/email/password_reset",
                    language=get_language(),
                    context={"member": member, "chain": member.chain, "link": public_url(link, request)},
                )
            # The same answer whether or not the address is known: nobody learns who is a member.
            return redirect("portal:password-reset-sent")
    return render(request, "members/portal/password_reset.html", {"form": form})


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "members/portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")


@member_required
def password_change(request):
    """The member changes their password (the old one first). A new password ends every API token
    of the login (justface.User.save): apps sign in again; this browser stays signed in. Wrong
    old passwords count against the login limit like wrong logins."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        identifier, address = request.user.get_username(), throttle.client_address(request)
        if throttle.blocked(throttle.LOGIN, identifier=identifier, address=address):
            form.is_valid()  # bound, so the page shows the fields as sent
            form.add_error(
                None, _("Too many attempts. Wait a quarter of an hour and try again, or reset your password.")
            )
        elif form.is_valid():
            throttle.succeeded(throttle.LOGIN, identifier=identifier)
            user = form.save()
            update_session_auth_hash(request, user)
            audit.record(action="member.password_change", actor=user, obj=request.member)
            messages.success(
                request, _("Your password is changed. Apps signed in with your old password must sign in again.")
            )
            return redirect("portal:profile")
        elif "old_password" in form.errors:
            throttle.failed(throttle.LOGIN, identifier=identifier, address=address)
    return render(request, "members/portal/password_change.html", {"form": form, "member": request.member})


@member_required
def profile(request):
    member = request.member
    form = forms.ProfileForm(request.POST if request.POST.get("form") == "profile" else None, instance=member)
    email_form = forms.EmailChangeForm(request.POST if request.POST.get("form") == "email" else None)
    if request.method == "POST":
        try:
            if form.is_bound and form.is_valid():
                changes = {f: form.cleaned_data[f] for f in services.RECTIFIABLE_FIELDS}
                member.refresh_from_db()  # the bound form changed the instance; the service decides
                changed = services.rectify_profile(member=member, changes=changes, actor=request.user)
                messages.success(request, _("Your details are saved.") if changed else _("Nothing was changed."))
                return redirect("portal:profile")
            if email_form.is_bound and email_form.is_valid():
                services.request_email_change(
                    member=member, new_email=email_form.cleaned_data["new_email"], actor=request.user, request=request
                )
                messages.success(request, _("We sent a link to the new address. Your e-mail changes when you open it."))
                return redirect("portal:profile")
        except ValidationError as error:
            _form_error(email_form if email_form.is_bound else form, error)
    return render(request, "members/portal/profile.html", {"member": member, "form": form, "email_form": email_form})


def confirm_email(request, token: str):
    try:
        services.confirm_email_change(token=token)
    except ValidationError:
        return render(request, "members/portal/link_invalid.html", status=404)
    messages.success(request, _("Your new e-mail address is confirmed and in use."))
    return redirect("portal:profile" if request.user.is_authenticated else "portal:login")


@member_required
def pin(request):
    form = forms.PinForm(request.POST or None, min_length=request.member.chain.policy.pin_min_length)
    if request.method == "POST" and form.is_valid():
        services.set_pin(member=request.member, pin=form.cleaned_data["pin"], actor=request.user)
        messages.success(request, _("Your PIN is set. Use it on the door tablet whenever you like."))
        return redirect("portal:home")
    return render(request, "members/portal/pin.html", {"form": form, "member": request.member})


@member_required
def my_data(request):
    return render(
        request,
        "members/portal/my_data.html",
        {"member": request.member, "categories": personal_data.held_about(request.member)},
    )


@member_required
def export(request):
    archive = services.export_member_data(member=request.member, actor=request.user)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="justface-data-{timezone.localdate():%Y-%m-%d}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@member_required
def requests(request):
    form = forms.DataSubjectRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, objection = form.kind_and_objection()
        try:
            services.file_data_subject_request(
                member=request.member,
                kind=kind,
                objection_to=objection,
                message=form.cleaned_data["message"],
                actor=request.user,
            )
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your request is filed. We answer within one month."))
            return redirect("portal:requests")
    filed = DataSubjectRequest.objects.filter(member=request.member).order_by("-received_at")
    return render(request, "members/portal/requests.html", {"form": form, "filed": filed, "member": request.member})

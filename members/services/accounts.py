"""A member's account: the login name, invitations, the profile they may correct, a new e-mail
address, and the member record's own erasure (the last step of an erasure)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from justface import audit
from justface.accounts import delete_login
from justface.mail import public_url, send_on_commit
from members.models import EmailChange, Invitation, Member, email_hash
from members.services.exclusions import check_exclusions
from members.services.requests import redact_data_subject_requests


def login_username(member: Member) -> str:
    """Member logins carry no personal data: members sign in with their e-mail, which is looked
    up through its keyed hash (members.selectors.member_for_login)."""
    return f"member-{member.pk}"


def invite_member(*, member: Member, actor, request=None) -> Invitation:
    """Send the member a one-time link (valid Invitation.LIFETIME_DAYS) to choose a password.
    A person on the exclusion list is refused where the chain says so (check_exclusions)."""
    if not member.email:
        raise ValidationError(_("The member has no e-mail address to send the invitation to."), code="no_email")
    if member.user_id:
        raise ValidationError(_("The member already has a login; they can reset their password."), code="has_login")
    if member.status == Member.Status.ENDED:
        raise ValidationError(_("The membership has ended."), code="ended")
    matches = check_exclusions(member=member, actor=actor, when="invite")
    with transaction.atomic():
        # One live invitation at a time: an older link stops working when a new one is sent.
        raw, invitation = Invitation.issue(
            member=member,
            lifetime=timedelta(days=Invitation.LIFETIME_DAYS),
            invited_by=actor if getattr(actor, "pk", None) else None,
            sent_at=timezone.now(),
        )
        send_on_commit(**invitation_email(member=member, raw=raw, request=request))
        audit.record(action="member.invite", actor=actor, obj=member)
    invitation.exclusion_matches = matches  # for the caller's warning to staff
    return invitation


def invitation_email(*, member: Member, raw: str, request=None) -> dict:
    """The invitation e-mail's address, template, language and context (justface.mail)."""
    return dict(
        to=member.email,
        template="members/email/invitation",
        language=member.chain.default_language,
        context={
            "member": member,
            "chain": member.chain,
            "days": Invitation.LIFETIME_DAYS,
            "link": public_url(reverse("portal:accept-invitation", args=[raw]), request),
        },
    )


def accept_invitation(*, token: str, password: str) -> Member:
    """Create the member's login with the chosen password; the link then stops working."""
    with transaction.atomic():
        invitation = Invitation.usable(token).select_for_update().select_related("member").first()
        if invitation is None:
            raise ValidationError(
                _("This invitation link has expired or was already used. Ask your centre for a new one."),
                code="invalid_link",
            )
        member = invitation.member
        if member.user_id:
            raise ValidationError(_("You already have a login. Sign in, or reset your password."), code="has_login")
        # Compare the password with the member's own details, which the saved login does not hold.
        User = get_user_model()
        validate_password(password, User(first_name=member.first_name, last_name=member.last_name, email=member.email))
        user = User.objects.create_user(username=login_username(member), password=password)
        member.user = user
        member.save(update_fields=["user"])
        invitation.mark_used()
        audit.record(action="member.invitation_accepted", actor=user, obj=member)
    return member


# Rectification ---------------------------------------------------------------------------

RECTIFIABLE_FIELDS = ("first_name", "last_name", "phone", "address", "gender")


def rectify_profile(*, member: Member, changes: dict, actor) -> list[str]:
    """Correct master data the member may change themself; returns the names of changed fields.
    The e-mail address changes only through request_email_change (it must be verified)."""
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    changed = sorted(f for f, value in changes.items() if getattr(member, f) != value)
    if not changed:
        return []
    for name in changed:
        setattr(member, name, changes[name])
    member.full_clean(exclude=["user", "chain", "home_centre"])
    with transaction.atomic():
        member.save(update_fields=changed)
        audit.record(action="member.rectify", actor=actor, obj=member, reason="fields: " + ", ".join(changed))
    return changed


def request_email_change(*, member: Member, new_email: str, actor, request=None) -> EmailChange:
    """Send a confirmation link to the new address; the old one stays in use until it is clicked."""
    new_email = new_email.strip()
    if email_hash(new_email) == member.email_hash:
        raise ValidationError(_("That is already your e-mail address."), code="same_email")
    with transaction.atomic():
        raw, change = EmailChange.issue(
            member=member, lifetime=timedelta(hours=EmailChange.LIFETIME_HOURS), new_email=new_email
        )
        send_on_commit(
            to=new_email,
            template="members/email/email_change",
            language=translation.get_language(),
            context={
                "member": member,
                "chain": member.chain,
                "hours": EmailChange.LIFETIME_HOURS,
                "link": public_url(reverse("portal:confirm-email", args=[raw]), request),
            },
        )
        audit.record(action="member.email_change_requested", actor=actor, obj=member)
    return change


def confirm_email_change(*, token: str) -> Member:
    with transaction.atomic():
        change = EmailChange.usable(token).select_for_update().select_related("member").first()
        if change is None:
            raise ValidationError(_("This confirmation link has expired or was already used."), code="invalid_link")
        member = change.member
        member.email = change.new_email
        member.save(update_fields=["email"])
        change.mark_used()
        audit.record(action="member.email_changed", actor=member.user, obj=member)
    return member


def erase_member_record(*, member: Member) -> dict:
    """Erasure of a member, last step (justface.personal_data.erase_member has the other apps erase
    theirs first): their requests keep only what proves they were answered, invitations and
    e-mail changes go, then the member row, then the login with its sessions and tokens.
    Exclusions stay, without the member (SET_NULL), until the quarantine ends."""
    redacted = redact_data_subject_requests(member=member)
    invitations = Invitation.objects.filter(member=member).delete()[1].get("members.Invitation", 0)
    email_changes = EmailChange.objects.filter(member=member).delete()[1].get("members.EmailChange", 0)
    user = member.user
    identifiers = [member.email] if member.email else []
    member.delete()
    sessions = delete_login(user=user, identifiers=[*identifiers, user.username]) if user is not None else 0
    return {
        "requests_redacted": redacted,
        "invitations_deleted": invitations,
        "email_changes_deleted": email_changes,
        "login_deleted": user is not None,
        "sessions_deleted": sessions,
    }

"""Writes that matter for members: each is one auditable entry point used by views, API, admin
actions, commands and jobs alike."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from justface import audit, personal_data, private_files
from justface.accounts import delete_login
from justface.mail import public_url, send_on_commit
from members.models import DataSubjectRequest, EmailChange, Exclusion, Invitation, Member, add_months, email_hash
from members.selectors import exclusions_matching_member

# ASCII digits only: \d would also take "١٢٣٤" (Arabic-Indic) and other scripts' digits, which
# no PIN pad can type. \Z, not $: "1234\n" is not a PIN. The door's serializer uses this too.
PIN_PATTERN = r"^[0-9]{4,8}\Z"
_PIN = re.compile(PIN_PATTERN)


def validate_pin(pin: str, *, min_length: int = 4) -> None:
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise ValidationError(_("The PIN must be 4 to 8 digits."), code="pin_format")
    if len(pin) < min_length:
        # The chain's policy (pin_min_length): longer PINs are what bounds guessing at the door.
        raise ValidationError(_("The PIN must be at least %(n)d digits.") % {"n": min_length}, code="pin_too_short")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise ValidationError(
            _("That PIN is too easy to guess; avoid repeated or consecutive digits."), code="pin_weak"
        )


def set_pin(*, member: Member, pin: str, actor=None) -> None:
    """Set or change the door PIN: hashed like a password, whatever the member's face consent."""
    validate_pin(pin, min_length=member.chain.policy.pin_min_length)
    member.pin_hash = make_password(pin)
    member.pin_set_at = timezone.now()
    member.save(update_fields=["pin_hash", "pin_set_at"])
    audit.record(action="member.pin_set", actor=actor, obj=member)


def erase_pin(*, member: Member, actor, reason: str) -> bool:
    """Delete the door PIN's hash (the membership has ended: members.personal_data, activity "pin")."""
    if not Member.objects.filter(pk=member.pk).exclude(pin_hash="").update(pin_hash="", pin_set_at=None):
        return False
    member.pin_hash, member.pin_set_at = "", None
    audit.record(action="member.pin_erase", actor=actor, obj=member, reason=reason)
    return True


def pin_matches(*, member: Member | None, pin: str) -> bool:
    """Whether `pin` is the member's PIN. No member, or no PIN set: False, after the hasher has
    run all the same, so a PIN pad cannot tell which member numbers exist by timing."""
    encoded = member.pin_hash if member is not None and member.pin_hash else UNUSABLE_PASSWORD_PREFIX
    return check_password(pin, encoded)


# Invitation and login ----------------------------------------------------------------------


def login_username(member: Member) -> str:
    """Member logins carry no personal data: members sign in with their e-mail, which is looked
    up through its keyed hash (members.selectors.member_for_login)."""
    return f"member-{member.pk}"


def check_exclusions(*, member: Member, actor, when: str) -> list[Exclusion]:
    """The membership check against the exclusion list (`when`: "create" or "invite"): the
    exclusions in force that match the person. Where the chain's exclusion_refuses_membership is
    on, a match refuses (ValidationError); otherwise the caller warns the staff. Each match is an
    audit entry (ids only)."""
    found = list(exclusions_matching_member(member))
    for exclusion in found:
        audit.record(
            action="exclusion.match", actor=actor, obj=exclusion, reason=f"{when}; member {member.pk or 'new'}"
        )
    if found and member.chain.policy.exclusion_refuses_membership:
        raise ValidationError(exclusion_warning(found, refused=True), code="excluded")
    return found


def exclusion_warning(found: list[Exclusion], *, refused: bool = False) -> str:
    ids = ", ".join(
        f"#{e.pk} ({_('permanent') if e.ends_on is None else _('until %(day)s') % {'day': e.ends_on.isoformat()}})"
        for e in found
    )
    if refused:
        return _(
            "This person matches the exclusion list (%(ids)s): this chain refuses a membership while it lasts."
        ) % {"ids": ids}
    return _("Warning: this person matches the exclusion list (%(ids)s). Check with a manager before going on.") % {
        "ids": ids
    }


def create_exclusion(
    *,
    chain,
    actor,
    full_name: str,
    category: str,
    starts_on,
    ends_on,
    reason: str = "",
    letter: str = "",
    member: Member | None = None,
    member_number: str = "",
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    birth_date=None,
) -> Exclusion:
    """Put a person on the chain's exclusion list, within the chain's limits (Exclusion.clean).
    From a member: their number, name and the hashes of their e-mail, phone, name and birth date."""
    if member is not None:
        if member.chain_id != chain.pk:
            raise ValidationError(_("The member belongs to another chain."))
        member_number, full_name = member.member_number, member.full_name
        email, phone, first_name, last_name, birth_date = (
            member.email,
            member.phone,
            member.first_name,
            member.last_name,
            member.birth_date,
        )
    exclusion = Exclusion(
        chain=chain,
        member=member,
        member_number=member_number,
        full_name=full_name,
        category=category,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        letter=letter,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    exclusion.set_identity(
        email=email,
        phone=phone,
        first_name=first_name or full_name,
        last_name=last_name if first_name else "",
        birth_date=birth_date,
    )
    exclusion.full_clean(exclude=["member", "created_by"])
    with transaction.atomic():
        exclusion.save()
        audit.record(action="exclusion.add", actor=actor, obj=exclusion, reason=category)
    return exclusion


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


# Portability -----------------------------------------------------------------------------


def _image_suffix(data: bytes) -> str:
    return {"jpeg": "jpg", "png": "png", "webp": "webp"}.get(private_files.image_type(data), "bin")


def export_member_data(*, member: Member, actor) -> bytes:
    """A ZIP of everything held about the member: one JSON file per category (index.json says
    what each is for, its legal basis and how long it is kept) and the kept photos."""
    categories = personal_data.held_about(member)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        index = {
            "exported_at": timezone.now().isoformat(),
            "controller": member.chain.name,
            "dpo_email": member.chain.dpo_email,
            "categories": [],
        }
        for category in categories:
            archive.writestr(f"{category.key}.json", json.dumps(category.data, ensure_ascii=False, indent=2))
            photos = []
            for n, name in enumerate(category.photos, start=1):
                content = private_files.read(name)
                photos.append(f"photos/{category.key}-{n}.{_image_suffix(content)}")
                archive.writestr(photos[-1], content)
            index["categories"].append(
                {
                    "file": f"{category.key}.json",
                    "title": str(category.title),
                    "purpose": str(category.purpose),
                    "legal_basis": str(category.legal_basis),
                    "retention": str(category.retention),
                    "photos": photos,
                }
            )
        archive.writestr("index.json", json.dumps(index, ensure_ascii=False, indent=2))
    audit.record(action="member.export_self", actor=actor, obj=member, reason="portability")
    return buffer.getvalue()


# Data-subject requests -------------------------------------------------------------------


def _validate_request(kind: str, objection_to: str) -> str:
    if kind not in DataSubjectRequest.Kind.values:
        raise ValidationError(_("Unknown kind of request."), code="kind")
    if kind == DataSubjectRequest.Kind.OBJECTION:
        if objection_to not in DataSubjectRequest.Objection.values:
            raise ValidationError(_("Say what you object to."), code="objection_to")
        return objection_to
    return ""


def file_data_subject_request(
    *, member: Member, kind: str, objection_to: str = "", message: str = "", actor
) -> DataSubjectRequest:
    """A member files a request in the portal or the app (identified by their login)."""
    return record_data_subject_request(
        chain=member.chain,
        member=member,
        kind=kind,
        objection_to=objection_to,
        message=message,
        channel=DataSubjectRequest.Channel.PORTAL,
        identity_checked=True,
        identity_note="signed in to the member portal",
        actor=actor,
    )


def record_data_subject_request(
    *,
    chain,
    kind: str,
    channel: str,
    actor,
    member: Member | None = None,
    requester_name: str = "",
    requester_email: str = "",
    objection_to: str = "",
    message: str = "",
    received_at=None,
    identity_checked: bool = False,
    identity_note: str = "",
) -> DataSubjectRequest:
    """Record a request received by any channel, for a member or a person not (yet) identified.
    Due one calendar month after receipt. A restriction or an objection of a known member takes
    effect at once (apply_request_effect). The DPO is told by e-mail (the request's id and due
    date only)."""
    objection_to = _validate_request(kind, objection_to)
    if channel not in DataSubjectRequest.Channel.values:
        raise ValidationError(_("Unknown channel."), code="channel")
    if member is not None and member.chain_id != chain.pk:
        raise ValidationError(_("The member belongs to another chain."), code="chain")
    if member is None and not (requester_name.strip() or requester_email.strip()):
        raise ValidationError(_("Name the member, or the person's name or e-mail address."), code="who")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise ValidationError(_("A request cannot be received in the future."), code="received_at")
    open_ones = DataSubjectRequest.objects.filter(
        member=member, kind=kind, objection_to=objection_to, status__in=DataSubjectRequest.OPEN_STATUSES
    )
    with transaction.atomic():
        if member is not None and open_ones.select_for_update().exists():
            raise ValidationError(_("You already have an open request of this kind."), code="duplicate")
        dsr = DataSubjectRequest.objects.create(
            chain=chain,
            member=member,
            kind=kind,
            objection_to=objection_to,
            message=message.strip(),
            channel=channel,
            requester_name=requester_name.strip(),
            requester_email=requester_email.strip(),
            identity_checked=identity_checked,
            identity_note=identity_note.strip(),
            received_at=received_at,
            due_at=add_months(received_at, DataSubjectRequest.RESPONSE_MONTHS),
        )
        # The DPO hears of it at once; the e-mail names the request, not the member.
        send_on_commit(
            to=chain.dpo_email,
            template="members/email/request_filed",
            language=chain.default_language,
            context={"request": dsr, "chain": chain},
        )
        audit.record(action="dsr.file", actor=actor, obj=dsr, reason=f"{kind} {objection_to} via {channel}".strip())
        if member is not None:
            apply_request_effect(request=dsr, actor=actor)
    return dsr


def apply_request_effect(*, request: DataSubjectRequest, actor) -> list[str]:
    """What a request does at once, for a known member: a restriction pauses face entry and all
    use for statistics and marketing (members.selectors.face_entry_paused, counted_in_statistics,
    may_receive_marketing) until lift_restriction; an objection to statistics or marketing stops
    that use from now on. Returns the member fields set."""
    member = request.member
    if member is None:
        return []
    field = {DataSubjectRequest.Kind.RESTRICTION: "restricted_since"}.get(request.kind) or {
        DataSubjectRequest.Objection.STATISTICS: "objects_to_statistics_since",
        DataSubjectRequest.Objection.MARKETING: "objects_to_marketing_since",
    }.get(request.objection_to if request.kind == DataSubjectRequest.Kind.OBJECTION else "")
    if field is None or getattr(member, field) is not None:
        return []
    Member.objects.filter(pk=member.pk).update(**{field: timezone.now()})
    setattr(member, field, timezone.now())
    audit.record(action="member.request_effect", actor=actor, obj=member, reason=f"{field} (request {request.pk})")
    return [field]


def lift_restriction(*, member: Member, actor, reason: str = "") -> bool:
    """End a restriction (Art. 18(3)): the member is told first, by e-mail; a failed e-mail keeps
    the restriction. Staff lift it on the restriction request's page (the requests desk).
    Returns whether the member was e-mailed (False: no address; staff tell them by letter)."""
    if member.restricted_since is None:
        raise ValidationError(_("The member's data is not restricted."), code="not_restricted")
    if member.email:
        _send_now(
            to=member.email,
            template="members/email/restriction_lifted",
            language=member.chain.default_language,
            context={"member": member, "chain": member.chain},
        )
    Member.objects.filter(pk=member.pk).update(restricted_since=None)
    member.restricted_since = None
    told = "e-mailed" if member.email else "no e-mail address"
    audit.record(
        action="member.restriction_lifted", actor=actor, obj=member, reason=f"{reason}; {told}" if reason else told
    )
    return bool(member.email)


class EmailFailed(ValidationError):
    pass


def _send_now(*, to: str, template: str, context: dict, language: str) -> None:
    """Send at once (not on commit): the caller goes on only if the e-mail got through."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    except Exception as error:  # noqa: BLE001 (SMTP, network, backend: all mean "not sent")
        raise EmailFailed(
            _("The e-mail could not be sent (%(error)s).") % {"error": type(error).__name__}, code="email_failed"
        ) from error


def _note_email_error(request: DataSubjectRequest, error: ValidationError) -> None:
    DataSubjectRequest.objects.filter(pk=request.pk).update(email_error=" ".join(error.messages)[:255])
    request.email_error = " ".join(error.messages)[:255]


def _request_language(request: DataSubjectRequest) -> str:
    return request.chain.default_language


def record_identity_check(*, request: DataSubjectRequest, note: str, actor) -> DataSubjectRequest:
    """Staff record that the person's identity was checked after the request came in (a letter or
    an e-mail, then the passport at the desk), and how: no copies of documents, a note."""
    if not request.is_open:
        raise ValidationError(_("Only an open request can be changed."), code="closed")
    if not note.strip():
        raise ValidationError(_("Say how the identity was checked."), code="note")
    with transaction.atomic():
        request.identity_checked, request.identity_note = True, note.strip()
        request.save(update_fields=["identity_checked", "identity_note"])
        audit.record(action="dsr.identity", actor=actor, obj=request, reason="identity checked")
    return request


def extend_deadline(*, request: DataSubjectRequest, months: int, reason: str, actor) -> DataSubjectRequest:
    """Extend the deadline by one or two more months (at most three after receipt, Art. 12(3)),
    with the reason sent to the person first. A failed e-mail extends nothing and is shown."""
    if not request.is_open:
        raise ValidationError(_("Only an open request can be extended."), code="closed")
    if not reason.strip():
        raise ValidationError(_("Give the reason for the extension: it is sent to the person."), code="reason")
    new_due = add_months(request.due_at, months)
    if months < 1 or new_due > request.latest_allowed_due():
        raise ValidationError(_("The deadline can be extended by at most two months in all."), code="too_long")
    to = request.answer_to
    if not to:
        raise ValidationError(_("There is no e-mail address to send the reason to."), code="no_address")
    try:
        _send_now(
            to=to,
            template="members/email/request_extended",
            language=_request_language(request),
            context={"request": request, "chain": request.chain, "new_due": new_due, "reason": reason.strip()},
        )
    except EmailFailed as error:
        _note_email_error(request, error)
        raise
    with transaction.atomic():
        request.due_at, request.extension_reason, request.extended_at, request.email_error = (
            new_due,
            reason.strip(),
            timezone.now(),
            "",
        )
        request.save(update_fields=["due_at", "extension_reason", "extended_at", "email_error"])
        audit.record(action="dsr.extend", actor=actor, obj=request, reason=f"+{months} month(s)")
    return request


def close_data_subject_request(
    *, request: DataSubjectRequest, status: str, response: str, actor, send_email: bool = True
) -> DataSubjectRequest:
    """Record the outcome (completed or refused) and send it to the person by e-mail first; a
    failed e-mail leaves the request open with the failure on it. send_email=False: the answer
    went by letter or at the desk (no e-mail address)."""
    if status not in (DataSubjectRequest.Status.DONE, DataSubjectRequest.Status.REFUSED):
        raise ValidationError(_("The outcome is either completed or refused."), code="status")
    if not response.strip():
        raise ValidationError(_("Write the answer: it is sent to the person."), code="response")
    if send_email:
        if not request.answer_to:
            raise ValidationError(
                _("There is no e-mail address: send the answer by letter and record it without e-mail."),
                code="no_address",
            )
        try:
            send_request_outcome(request=request, status=status, response=response)
        except EmailFailed as error:
            _note_email_error(request, error)
            raise
    request.email_error = ""
    request.outcome_sent_at = timezone.now() if send_email else None
    request.save(update_fields=["email_error", "outcome_sent_at"])
    return resolve_data_subject_request(request=request, status=status, response=response, actor=actor)


def send_request_outcome(*, request: DataSubjectRequest, status: str, response: str) -> None:
    _send_now(
        to=request.answer_to,
        template="members/email/request_outcome",
        language=_request_language(request),
        context={
            "request": request,
            "chain": request.chain,
            "refused": status == DataSubjectRequest.Status.REFUSED,
            "response": response.strip(),
        },
    )


def redact_data_subject_requests(*, member: Member) -> int:
    """Before the member is erased: their requests stay as proof that they were made and
    answered (kind, dates, status, the chain), but lose the member's own words and the answers
    written to them, which may name them. The member link goes with the member (SET_NULL); the
    audit entry of the erasure ties request ids to the erased member's id."""
    return DataSubjectRequest.objects.filter(member=member).update(
        message="", response="", requester_name="", requester_email="", identity_note="", extension_reason=""
    )


def resolve_data_subject_request(
    *, request: DataSubjectRequest, status: str, response: str, actor
) -> DataSubjectRequest:
    """Staff record progress or the outcome; the member sees the status and the response."""
    if status not in DataSubjectRequest.Status.values:
        raise ValidationError("Unknown status.")
    with transaction.atomic():
        request.status = status
        request.response = response
        request.handled_by = actor
        request.resolved_at = (
            None if status in DataSubjectRequest.OPEN_STATUSES else (request.resolved_at or timezone.now())
        )
        request.save(update_fields=["status", "response", "handled_by", "resolved_at"])
        audit.record(action="dsr.update", actor=actor, obj=request, reason=status)
    return request


def erase_member_record(*, member: Member) -> dict:
    """Erasure of a member, last step (retention.services.erase_member has the other apps erase
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

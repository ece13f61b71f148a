"""Data-subject requests (GDPR Art. 15-21), in one place from receipt to receipt: filing and
recording, the identity check, the deadline and its extension, the outcome and its e-mail, an
erasure request carried out (the registry's erase_member, then the answer and the receipt's
counts), and what stays of them after an erasure. Their one staff screen is the request's admin
page (members.admin.requests)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from justface import audit
from justface.mail import send_on_commit
from justface.personal_data import erase_member
from members.models import DataSubjectRequest, Member, add_months


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


# --- an erasure request carried out ---------------------------------------------------------

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's answer to FOR UPDATE NOWAIT on a row another transaction holds


def erasure_request_problem(*, request: DataSubjectRequest) -> str:
    """Why the request cannot be carried out now, or "" when it can: the one rule that both the
    request page's erase button and carry_out_erasure_request ask."""
    if request.kind != DataSubjectRequest.Kind.ERASURE or not request.is_open:
        return _("Only an open erasure request can be carried out.")
    if request.member_id is None:
        return _("This member has already been erased.")
    return ""


def receipt_counts(*, receipt: dict) -> dict[str, int | bool]:
    """What of a receipt is kept with the request: the count of each category, nothing else (not
    the member's id, which the erasure's audit entry holds, nor the reason's text)."""
    return {key: value for key, value in receipt.items() if isinstance(value, int | bool) and key != "member_id"}


def carry_out_erasure_request(*, request: DataSubjectRequest, actor) -> dict:
    """Erase the account a member asked to have erased, and answer the request (which stays,
    without the member and without anything that names them, as proof, with the receipt's
    counts). The confirmation is e-mailed first, while the address still exists: if that fails
    nothing is erased and the request stays open with the failure on it.

    The request row is locked from the check to the answer (without waiting: a second click or
    a second staff member is told the erasure is under way), so one request is erased and
    confirmed once."""
    try:
        with transaction.atomic():
            try:
                locked = DataSubjectRequest.objects.select_for_update(nowait=True).get(pk=request.pk)
            except OperationalError as error:
                if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                raise ValidationError(
                    _("This request is being carried out right now; reload the page in a moment."), code="busy"
                ) from None
            problem = erasure_request_problem(request=locked)
            if problem:
                raise ValidationError(problem, code="not_open")
            with translation.override(locked.chain.default_language):
                response = _("Your account and personal data were erased on %(day)s.") % {
                    "day": f"{timezone.localdate():%Y-%m-%d}"
                }
            sent = bool(locked.answer_to)
            if sent:
                send_request_outcome(request=locked, status=DataSubjectRequest.Status.DONE, response=response)
            receipt = {
                **erase_member(member=locked.member, actor=actor, reason=f"erasure request {locked.pk}"),
                "confirmation_sent": sent,
            }
            locked.refresh_from_db()
            DataSubjectRequest.objects.filter(pk=locked.pk).update(
                email_error="",
                outcome_sent_at=timezone.now() if sent else None,
                erasure_receipt=receipt_counts(receipt=receipt),
            )
            resolve_data_subject_request(
                request=locked, status=DataSubjectRequest.Status.DONE, actor=actor, response=response
            )
    except EmailFailed as error:
        # Outside the rolled-back transaction, so the failure stays on the open request.
        DataSubjectRequest.objects.filter(pk=request.pk).update(email_error=" ".join(error.messages)[:255])
        request.refresh_from_db()
        raise
    request.refresh_from_db()
    return receipt

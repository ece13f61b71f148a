"""Signing and withdrawing consent, the guardian's confirmation, publishing documents. Each is
one auditable entry point used by the portal, the member API, the front desk and the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent import selectors
from consent.models import ConsentDocument, ConsentRecord, GuardianConfirmation
from justface import audit, crypto
from justface.mail import public_url, send_on_commit
from justface.throttle import client_address
from members.faces import erase_biometrics
from members.models import Member

Kind = ConsentDocument.Kind
Channel = ConsentRecord.Channel
WITHDRAWABLE = (Kind.BIOMETRIC, Kind.MARKETING)


@dataclass(frozen=True)
class Evidence:
    """Where a signature came from: kept (encrypted) with the record."""

    channel: str
    ip_address: str = ""
    user_agent: str = ""

    @classmethod
    def of(cls, request, channel: str) -> Evidence:
        return cls(
            channel=channel,
            ip_address=client_address(request)[:45],
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:1000],
        )


def _same_name(typed: str, *expected: str) -> bool:
    return bool(crypto.name_tokens(typed)) and crypto.name_tokens(typed) == crypto.name_tokens(*expected)


def _record(
    *,
    member: Member,
    document: ConsentDocument,
    action: str,
    evidence: Evidence,
    typed_name: str = "",
    text_sha256: str | None = None,
    receipt: dict | None = None,
) -> ConsentRecord:
    return ConsentRecord.objects.create(
        member=member,
        document=document,
        action=action,
        text_sha256=text_sha256 or document.text_sha256,
        ip_address=evidence.ip_address,
        user_agent=evidence.user_agent,
        typed_name=typed_name,
        channel=evidence.channel,
        receipt=receipt or {},
    )


def sign(
    *,
    member: Member,
    document: ConsentDocument,
    typed_name: str,
    evidence: Evidence,
    actor,
    guardian_name: str = "",
    guardian_email: str = "",
    request=None,
) -> ConsentRecord:
    """Record the member's signature of the current published version of a document: the
    version, the SHA-256 of its exact text, time, IP, user agent and the typed full name. For a
    minor's biometric consent the named guardian gets a link; the consent is active only once
    they confirm."""
    if document.chain_id != member.chain_id or not document.is_published:
        raise ValidationError(_("This document cannot be signed."), code="document")
    current = selectors.current_document(member.chain, document.kind, document.language)
    if current is None or current.pk != document.pk:
        raise ValidationError(
            _("A newer version of this document exists; please read and sign that one."), code="outdated"
        )
    if member.status == Member.Status.ENDED:
        raise ValidationError(_("Your membership has ended."), code="ended")
    if not _same_name(typed_name, member.first_name, member.last_name):
        raise ValidationError(
            _("Type your full name exactly as it is on your membership: %(name)s.") % {"name": member.full_name},
            code="typed_name",
        )
    needs_guardian = document.kind == Kind.BIOMETRIC and selectors.is_minor(member)
    if needs_guardian and not (guardian_name.strip() and guardian_email.strip()):
        raise ValidationError(
            _(
                "You are under %(age)d: give the name and e-mail address of a parent or guardian, "
                "who must confirm your consent."
            )
            % {"age": member.chain.policy.minor_age},
            code="guardian",
        )
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()  # one signature at a time per member
        standing = selectors.latest_signature(member, document.kind)
        if standing is not None and standing.document_id == document.pk:
            raise ValidationError(_("You have already signed this version."), code="already_signed")
        record = _record(
            member=member,
            document=document,
            action=ConsentRecord.Action.SIGN,
            evidence=evidence,
            typed_name=typed_name.strip(),
        )
        if needs_guardian:
            _ask_guardian(
                member=member,
                signature=record,
                name=guardian_name.strip(),
                email=guardian_email.strip(),
                request=request,
            )
        audit.record(
            action="consent.sign",
            actor=actor,
            obj=record,
            chain_id=member.chain_id,
            reason=f"{document.kind} v{document.version} {document.language} via {evidence.channel}",
        )
    return record


def _ask_guardian(*, member: Member, signature: ConsentRecord, name: str, email: str, request) -> None:
    if (member.guardian_name, member.guardian_email) != (name, email):
        member.guardian_name, member.guardian_email = name, email
        member.save(update_fields=["guardian_name", "guardian_email"])
    raw, _ = GuardianConfirmation.issue(
        member=member,
        lifetime=timedelta(days=GuardianConfirmation.LIFETIME_DAYS),
        signature=signature,
        guardian_name=name,
        guardian_email=email,
    )
    send_on_commit(
        to=email,
        template="consent/email/guardian",
        language=translation.get_language() or signature.document.language,
        context={
            "member": member,
            "chain": member.chain,
            "guardian_name": name,
            "days": GuardianConfirmation.LIFETIME_DAYS,
            "link": public_url(reverse("portal:guardian-confirm", args=[raw]), request),
        },
    )


def confirm_as_guardian(*, token: str, typed_name: str, evidence: Evidence) -> ConsentRecord:
    """The guardian's own confirmation of a minor's biometric consent, through their one-time link."""
    with transaction.atomic():
        link = (
            GuardianConfirmation.usable(token)
            .select_for_update()
            .select_related("member", "signature__document")
            .first()
        )
        if link is None:
            raise ValidationError(_("This link has expired or was already used."), code="invalid_link")
        if selectors.latest_signature(link.member, Kind.BIOMETRIC) != link.signature:
            raise ValidationError(_("The consent this link was for has been withdrawn or replaced."), code="superseded")
        if not _same_name(typed_name, link.guardian_name):
            raise ValidationError(
                _("Type your full name as the member gave it: %(name)s.") % {"name": link.guardian_name},
                code="typed_name",
            )
        record = _record(
            member=link.member,
            document=link.signature.document,
            action=ConsentRecord.Action.GUARDIAN_CONFIRM,
            evidence=evidence,
            typed_name=typed_name.strip(),
        )
        link.mark_used()
        audit.record(
            action="consent.guardian_confirm", obj=record, chain_id=link.member.chain_id, reason="guardian link"
        )
    return record


def withdraw(*, member: Member, kind: str, evidence: Evidence, actor) -> ConsentRecord:
    """Withdraw a consent: a new record, never an edit. For face scan the template and every
    photo are erased in the same transaction (members.faces.erase_biometrics); the returned
    record carries the receipt."""
    if kind not in WITHDRAWABLE:
        raise ValidationError(
            _("Membership terms are a contract, not a consent; to end them, contact your centre."),
            code="not_withdrawable",
        )
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()
        signature = selectors.latest_signature(member, kind)
        if signature is None:
            raise ValidationError(_("There is no consent to withdraw."), code="nothing_to_withdraw")
        receipt = {}
        if kind == Kind.BIOMETRIC:
            receipt = erase_biometrics(member=member, actor=actor, reason="consent withdrawn", remember=True)
            GuardianConfirmation.revoke_open(member)
        record = _record(
            member=member,
            document=signature.document,
            action=ConsentRecord.Action.WITHDRAW,
            evidence=evidence,
            text_sha256=signature.text_sha256,
            receipt=receipt,
        )
        audit.record(
            action="consent.withdraw",
            actor=actor,
            obj=record,
            chain_id=member.chain_id,
            reason=f"{kind} via {evidence.channel}",
        )
    return record


# Documents (the chain's manager, in the admin) ------------------------------------------------


def create_draft(*, document: ConsentDocument, actor) -> ConsentDocument:
    """Save a new draft; its version number follows the chain's last one for that kind and language."""
    document.version = selectors.next_version(
        chain_id=document.chain_id, kind=document.kind, language=document.language
    )
    document.published_at = None
    document.save()
    audit.record(
        action="consent_document.add", actor=actor, obj=document, reason=f"{document.kind} v{document.version}"
    )
    return document


def publish_document(*, document: ConsentDocument, actor, request=None) -> ConsentDocument:
    """From now on members sign this version, and its text can never change."""
    if document.is_published:
        raise ValidationError(_("This version is already published."), code="published")
    newer = ConsentDocument.objects.filter(
        chain_id=document.chain_id,
        kind=document.kind,
        language=document.language,
        version__gt=document.version,
        published_at__isnull=False,
    )
    if newer.exists():
        raise ValidationError(_("A newer version is already published."), code="outdated")
    with transaction.atomic():
        document.published_at = timezone.now()
        document.save(update_fields=["published_at"])
        told = ask_to_reconsent(document=document, request=request) if document.requires_reconsent else 0
        audit.record(
            action="consent_document.publish",
            actor=actor,
            obj=document,
            reason=f"{document.kind} v{document.version}"
            + (f"; {told} member(s) e-mailed to re-consent" if told else ""),
        )
    return document


def ask_to_reconsent(*, document: ConsentDocument, request=None) -> int:
    """A version that requires re-consent has been published: e-mail every member standing on an
    older version of it (in the document's language, the one they signed in) a link to the new
    text, saying what is paused until they sign (for face scan: face entry; the PIN works).
    Sent once the publishing commits. Returns how many were e-mailed (members without an
    address are not; staff see them in the count still to sign)."""
    try:
        link = public_url(reverse("portal:consent", args=[document.kind]), request)
    except RuntimeError as error:  # no site address to link to: publish nothing rather than half
        raise ValidationError(str(error), code="no_public_url") from None
    sent = 0
    for member in selectors.members_to_reconsent(document).exclude(email="").select_related("chain"):
        if not member.email:
            continue
        send_on_commit(
            to=member.email,
            template="consent/email/reconsent",
            language=document.language,
            context={
                "member": member,
                "chain": member.chain,
                "document": document,
                "link": link,
                "biometric": document.kind == ConsentDocument.Kind.BIOMETRIC,
            },
        )
        sent += 1
    return sent


def new_version(*, document: ConsentDocument, actor) -> ConsentDocument:
    """A draft copy of a document, as the next version, to edit and publish."""
    draft = ConsentDocument(
        chain_id=document.chain_id,
        kind=document.kind,
        language=document.language,
        title=document.title,
        body=document.body,
    )
    return create_draft(document=draft, actor=actor)


def erase_member_consents(*, member: Member) -> dict[str, int]:
    """Erasure of a member (justface.personal_data.erase_member): their signed and withdrawn consent
    records and guardian confirmations. The documents they agreed to stay: they name nobody."""
    guardians = GuardianConfirmation.objects.filter(member=member).delete()[1].get("consent.GuardianConfirmation", 0)
    records = ConsentRecord.objects.filter(member=member).delete()[1].get("consent.ConsentRecord", 0)
    return {"consent_records_deleted": records, "guardian_links_deleted": guardians}

"""Invitations at scale: after an import a manager invites every member of the chain (or of one
centre) who has an e-mail address and no portal login yet. Starting a round only counts them; the
background worker's schedule (`send_due`, every minute) sends at most JUSTFACE_INVITE_RATE
invitation e-mails per minute across all rounds, each one handed to the mail server at once so
that its refusal is recorded on the invitation: a recipient refused with a permanent (5xx) reply
is *bounced*, any other error *failed*. Bounces the mail provider reports later (the address was
accepted, then returned) are marked with `mark_bounced` (`manage.py invitation_bounces`)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from justface import audit
from justface.mail import send_now
from members import services
from members.models import Centre, Chain, Invitation, InvitationRound, Member, email_hash
from members.selectors import members_to_invite

PROVIDER_REPORT = "reported by the mail provider"


def start_round(*, chain: Chain, actor, centre: Centre | None = None) -> InvitationRound:
    """Open a round for the chain's (or the centre's) members to invite; the worker sends it."""
    if centre is not None and centre.chain_id != chain.pk:
        raise ValidationError(_("The centre belongs to another chain."), code="other_chain")
    if not settings.JUSTFACE_PUBLIC_URL:
        # The worker has no request to take the site's address from.
        raise ValidationError(
            _("Set JUSTFACE_PUBLIC_URL to the site's address before inviting members in bulk."), code="no_public_url"
        )
    with transaction.atomic():
        Chain.objects.select_for_update().get(pk=chain.pk)  # one round opens at a time per chain
        if InvitationRound.objects.filter(chain=chain, finished_at=None, cancelled_at=None).exists():
            raise ValidationError(
                _("An invitation round of this chain is still being sent; wait for it or cancel it."), code="busy"
            )
        total = members_to_invite(chain_id=chain.pk, centre_id=centre.pk if centre else None).count()
        if not total:
            raise ValidationError(
                _("Nobody to invite: every member with an e-mail address has a login or a usable invitation."),
                code="nobody",
            )
        round_ = InvitationRound.objects.create(
            chain=chain, centre=centre, total=total, created_by=actor if getattr(actor, "pk", None) else None
        )
        audit.record(
            action="invitation_round.start",
            actor=actor,
            obj=round_,
            reason=f"{total} members; centre {centre.pk if centre else 'all'}",
        )
    return round_


def cancel_round(*, round_: InvitationRound, actor) -> bool:
    """Stop a round: invitations already sent stay valid, nobody else gets one."""
    done = InvitationRound.objects.filter(pk=round_.pk, finished_at=None, cancelled_at=None).update(
        cancelled_at=timezone.now()
    )
    if done:
        audit.record(action="invitation_round.cancel", actor=actor, obj=round_)
    return bool(done)


def send_due() -> int:
    """The schedule's job: send what the rate allows this minute, oldest round first. The budget
    counts every round's e-mails of the last 60 seconds, so several workers, a late run or a run
    that catches up never exceed JUSTFACE_INVITE_RATE per minute."""
    window = timezone.now() - timedelta(seconds=60)
    budget = settings.JUSTFACE_INVITE_RATE - Invitation.objects.filter(round__isnull=False, sent_at__gte=window).count()
    sent = 0
    for round_ in InvitationRound.objects.filter(finished_at=None, cancelled_at=None).order_by("created_at", "pk"):
        if budget - sent <= 0:
            break
        sent += send_slice(round_=round_, limit=budget - sent)
    return sent


def send_slice(*, round_: InvitationRound, limit: int) -> int:
    """Claim the round's next `limit` members (a locked cursor: two workers never take the same
    ones), then invite each in a transaction of its own. Returns the e-mails attempted."""
    with transaction.atomic():
        locked = InvitationRound.objects.select_for_update().filter(pk=round_.pk, finished_at=None, cancelled_at=None)
        round_ = locked.select_related("chain").first()
        if round_ is None:
            return 0
        ids = list(
            members_to_invite(chain_id=round_.chain_id, centre_id=round_.centre_id)
            .filter(pk__gt=round_.last_member_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            round_.finished_at = timezone.now()
            round_.save(update_fields=["finished_at"])
            audit.record(action="invitation_round.finish", actor=None, obj=round_, chain_id=round_.chain_id)
            return 0
        round_.last_member_id = ids[-1]
        round_.save(update_fields=["last_member_id"])
    attempted = 0
    for member in Member.objects.filter(pk__in=ids).select_related("chain").order_by("pk"):
        if _invite(member=member, round_=round_):
            attempted += 1
        else:
            InvitationRound.objects.filter(pk=round_.pk).update(skipped=F("skipped") + 1)
    return attempted


def _invite(*, member: Member, round_: InvitationRound) -> bool:
    """One member of a round: False when passed over (the exclusion list refuses them)."""
    actor = round_.created_by
    try:
        services.check_exclusions(member=member, actor=actor, when="invite")
    except ValidationError:
        return False
    with transaction.atomic():
        raw, invitation = Invitation.issue(
            member=member,
            lifetime=timedelta(days=Invitation.LIFETIME_DAYS),
            invited_by=actor,
            round=round_,
            delivery=Invitation.Delivery.QUEUED,
        )
        audit.record(action="member.invite", actor=actor, obj=member, reason=f"invitation round {round_.pk}")
    delivery, error = Invitation.Delivery.SENT, ""
    try:
        send_now(**services.invitation_email(member=member, raw=raw))
    except smtplib.SMTPRecipientsRefused as refused:
        codes = [code for code, _message in refused.recipients.values()]
        permanent = any(500 <= code < 600 for code in codes)
        delivery = Invitation.Delivery.BOUNCED if permanent else Invitation.Delivery.FAILED
        error = f"SMTP {','.join(str(c) for c in codes)}: recipient refused"
    except smtplib.SMTPResponseException as failure:
        delivery, error = Invitation.Delivery.FAILED, f"SMTP {failure.smtp_code}: {type(failure).__name__}"
    except (smtplib.SMTPException, OSError) as failure:
        delivery, error = Invitation.Delivery.FAILED, type(failure).__name__
    Invitation.objects.filter(pk=invitation.pk).update(delivery=delivery, delivery_error=error, sent_at=timezone.now())
    return True


@dataclass(frozen=True)
class RoundCounts:
    total: int
    to_send: int
    sent: int
    failed: int
    bounced: int
    expired: int
    accepted: int
    skipped: int

    @property
    def done_percent(self) -> int:
        if not self.total:
            return 100
        return min(100, round(100 * (self.total - self.to_send) / self.total))


def counts(round_: InvitationRound) -> RoundCounts:
    """What staff see of a round: counts only (the invitation list names the members)."""
    round_.refresh_from_db()  # the worker moves the cursor
    rows = Invitation.objects.filter(round=round_)
    now = timezone.now()
    to_send = 0
    if round_.is_open:
        to_send = (
            members_to_invite(chain_id=round_.chain_id, centre_id=round_.centre_id)
            .filter(pk__gt=round_.last_member_id)
            .count()
        )
    return RoundCounts(
        total=round_.total,
        to_send=to_send,
        sent=rows.filter(delivery=Invitation.Delivery.SENT).count(),
        failed=rows.filter(delivery=Invitation.Delivery.FAILED).count(),
        bounced=rows.filter(delivery=Invitation.Delivery.BOUNCED).count(),
        expired=rows.filter(delivery=Invitation.Delivery.SENT, used_at=None, expires_at__lte=now).count(),
        accepted=rows.filter(used_at__isnull=False, member__user__isnull=False).count(),
        skipped=round_.skipped,
    )


def mark_bounced(*, chain: Chain, emails: list[str], actor) -> tuple[int, int]:
    """The mail provider's bounce report (addresses it could not deliver to): each address's
    latest sent invitation in the chain becomes *bounced*. Returns (marked, not found)."""
    found, missing = [], 0
    for address in {a.strip() for a in emails if a.strip()}:
        latest = (
            Invitation.objects.filter(
                member__chain=chain, member__email_hash=email_hash(address), delivery=Invitation.Delivery.SENT
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if latest is None:
            missing += 1
        else:
            found.append(latest.pk)
    return mark_invitations_bounced(invitations=Invitation.objects.filter(pk__in=found), actor=actor), missing


def mark_invitations_bounced(*, invitations, actor) -> int:
    """Mark sent invitations as bounced (the provider's report, by staff or the command)."""
    marked = 0
    for invitation in invitations.filter(delivery=Invitation.Delivery.SENT).select_related("member"):
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk).update(
                delivery=Invitation.Delivery.BOUNCED, delivery_error=PROVIDER_REPORT
            )
            audit.record(action="invitation.bounce", actor=actor, obj=invitation, chain_id=invitation.member.chain_id)
        marked += 1
    return marked

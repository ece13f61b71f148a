"""What the chain's retention policy says is due, and the operator's erasure of a member.

A whole member is erased by one function, the personal-data registry's loop
(justface.personal_data.erase_member, re-exported here for the retention job): from a
data-subject request (members.services.carry_out_erasure_request, on the request's admin page),
from the retention job once check-in data has passed the chain's period, or by the operator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from consent.models import ConsentDocument, ConsentRecord
from justface import audit
from justface.personal_data import activity, erase_member
from members.models import Chain, DataSubjectRequest, Exclusion, FaceTemplate, Member
from members.policy import ChainPolicy
from members.services import receipt_counts, resolve_data_subject_request
from retention.models import ErasureJob


def erase_member_by_operator(*, member: Member, reason: str) -> dict:
    """The operator's erasure (`manage.py erase_member`): erase_member with the operator's reason
    (audited as "command line: ..."), and any open erasure request of the member answered as done,
    in one transaction. Returns erase_member's receipt plus the chain, the time and the answered
    requests' ids."""
    with transaction.atomic():
        open_requests = list(
            DataSubjectRequest.objects.select_for_update().filter(
                member=member, kind=DataSubjectRequest.Kind.ERASURE, status__in=DataSubjectRequest.OPEN_STATUSES
            )
        )
        chain_slug = member.chain.slug
        receipt = erase_member(member=member, actor=None, reason=f"command line: {reason}")
        for dsr in open_requests:
            dsr.refresh_from_db()
            dsr.erasure_receipt = receipt_counts(receipt=receipt)
            dsr.save(update_fields=["erasure_receipt"])
            resolve_data_subject_request(
                request=dsr,
                status=DataSubjectRequest.Status.DONE,
                actor=None,
                response=f"Your account and personal data were erased on {timezone.localdate():%Y-%m-%d}.",
            )
    return {
        **receipt,
        "chain": chain_slug,
        "erased_at": timezone.now().isoformat(),
        "requests_answered": [d.pk for d in open_requests],
    }


def ended_before(chain: Chain, cutoff: date) -> QuerySet[Member]:
    """Members of the chain whose membership ended before `cutoff`: the end date (the last day
    of the membership) is before it, or, without an end date, the status was set to ended before
    it (Member.ended_at: an edit later does not restart the clock). Filtered in SQL and loaded without
    the encrypted columns: this runs every minute."""
    return (
        Member.objects.filter(chain=chain)
        .filter(
            Q(end_date__lt=cutoff)
            | Q(end_date__isnull=True, status=Member.Status.ENDED, ended_at__lt=day_start(cutoff))
        )
        .only("pk", "chain_id")
    )


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in the server's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _due(days_of: Callable[[Chain], int], today: date, members: QuerySet[Member] | None = None) -> list[Member]:
    due: list[Member] = []
    for chain in Chain.objects.only("pk", "settings"):
        ended = ended_before(chain, today - timedelta(days=days_of(chain)))
        due += ended if members is None else ended.filter(pk__in=members.values("pk"))
    return due


def members_due_biometric_erasure(*, today: date | None = None) -> list[Member]:
    """Ended members who still have templates past the chain's biometric_retention_days
    (default 0: the day after the membership's last day)."""
    with_templates = Member.objects.filter(pk__in=FaceTemplate.objects.values("member_id"))
    # The period is the one members.personal_data declares (the notice and the register show it).
    return _due(lambda c: activity("face").retention_days(c.policy), today or timezone.localdate(), with_templates)


def members_due_pin_erasure(*, today: date | None = None) -> list[Member]:
    """Ended members who still have a PIN hash past the chain's pin_retention_days (default 0:
    the day after the membership's last day)."""
    with_pin = Member.objects.exclude(pin_hash="")
    return _due(lambda c: activity("pin").retention_days(c.policy), today or timezone.localdate(), with_pin)


def members_due_marketing_erasure(*, today: date | None = None) -> list[Member]:
    """Ended members who still have marketing consent records past marketing_retention_days."""
    with_marketing = Member.objects.filter(
        pk__in=ConsentRecord.objects.filter(document__kind=ConsentDocument.Kind.MARKETING).values("member_id")
    )
    return _due(lambda c: activity("marketing").retention_days(c.policy), today or timezone.localdate(), with_marketing)


def erase_marketing_consent(*, member: Member, actor, reason: str) -> int:
    """Delete the member's marketing consent records (signatures and withdrawals): without them
    nothing may be sent to the member. Returns how many went."""
    with transaction.atomic():
        deleted, _ = ConsentRecord.objects.filter(member=member, document__kind=ConsentDocument.Kind.MARKETING).delete()
        audit.record(action="marketing_consent.erase", actor=actor, obj=member, reason=f"{reason}; {deleted} record(s)")
    return deleted


def _per_chain(
    today: date, days_of: Callable[[Chain], int], delete: Callable[[Chain, datetime], int], action: str
) -> int:
    total = 0
    for chain in Chain.objects.only("pk", "settings"):
        cutoff = day_start(today - timedelta(days=days_of(chain)))
        with transaction.atomic():
            n = delete(chain, cutoff)
            if n:
                audit.record(
                    action=action, object_type="", chain_id=chain.pk, reason=f"{n} row(s) before {cutoff:%Y-%m-%d}"
                )
        total += n
    return total


def purge_closed_requests(*, today: date | None = None) -> int:
    """Requests closed (completed or refused) more than the chain's requests_retention_days ago go,
    with the person's message and the answer: kept through the period's last day, deleted the day after."""
    closed = [DataSubjectRequest.Status.DONE, DataSubjectRequest.Status.REFUSED]
    return _per_chain(
        today or timezone.localdate(),
        lambda c: activity("requests").retention_days(c.policy),
        lambda c, cutoff: DataSubjectRequest.objects.filter(
            chain=c, status__in=closed, resolved_at__lt=cutoff
        ).delete()[0],
        "dsr.purge",
    )


def purge_done_jobs(*, today: date | None = None) -> int:
    """Finished erasure jobs older than the chain's erasure_job_retention_days."""
    return _per_chain(
        today or timezone.localdate(),
        lambda c: c.policy.erasure_job_retention_days,
        lambda c, cutoff: ErasureJob.objects.filter(chain=c, done_at__lt=cutoff).delete()[0],
        "erasure_job.purge",
    )


def purge_audit_trail(*, today: date | None = None) -> int:
    """Audit entries older than the chain's audit_retention_days (entries of no chain: the
    default period), through justface.audit.purge, the one deletion the trigger allows."""
    today = today or timezone.localdate()
    total = sum(
        audit.purge(chain_id=c.pk, before=day_start(today - timedelta(days=activity("audit").retention_days(c.policy))))
        for c in Chain.objects.only("pk", "settings")
    )
    default = activity("audit").retention_days(ChainPolicy())
    return total + audit.purge(chain_id=None, before=day_start(today - timedelta(days=default)))


def members_due_erasure(*, today: date | None = None) -> list[Member]:
    """Members whose membership ended more than the chain's checkins_retention_days ago."""
    return _due(lambda c: activity("membership").retention_days(c.policy), today or timezone.localdate())


def exclusions_due(*, today: date | None = None) -> list[Exclusion]:
    """Quarantines that have ended, and any that has outlived the chain's exclusion_max_days
    (a chain that lowers its maximum, or stops allowing permanent ones, sees them go); a
    permanent one stays only where the chain allows it."""
    today = today or timezone.localdate()
    due: list[Exclusion] = []
    for chain in Chain.objects.only("pk", "settings"):
        policy = chain.policy
        too_old = Q(starts_on__lt=today - timedelta(days=policy.exclusion_max_days))
        if policy.exclusion_permanent_allowed:
            too_old &= Q(ends_on__isnull=False)
        due += Exclusion.objects.filter(chain=chain).filter(Q(ends_on__lt=today) | too_old).only("pk", "chain_id")
    return due

"""Erasure work that is due, run by the django-q schedule every minute (or `manage.py purge_due`).

Due work is first planned as ErasureJob rows (one open job per thing to erase). A worker then
takes each job by locking its row, still undone and as it read it (SELECT ... FOR UPDATE SKIP
LOCKED), and erases, marks the job done and writes the audit entry in that same transaction. So
however many workers run this at once, every job runs exactly once: a second worker skips a
locked row instead of waiting, and a worker killed mid-job (its machine lost, its process killed)
leaves nothing half-done: its transaction rolls back, PostgreSQL frees the row as the connection
drops, and the next pass (a minute later, on any cluster) runs the job. Planning waits for the
jobs under way (PLANNING_LOCK), so it never plans a second job for a subject being erased. A job
whose erasure failed waits CLAIM_EXPIRES before it is tried again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from access import door_agents, reports
from access import services as door
from access.selectors import frames_due
from justface import audit, metrics
from justface.accounts import delete_expired_api_tokens
from justface.face_runtime import installed_models
from members.faces import erase_biometrics, erase_expired_pending_photos, erase_retired_templates
from members.gallery import purge_changes as purge_gallery_changes
from members.models import Exclusion, FaceTemplate, Member
from members.services import erase_pin
from retention import services
from retention.models import ErasureJob

logger = logging.getLogger(__name__)

CLAIM_EXPIRES = timedelta(minutes=10)
BATCH = 500
# Scans are working data (long-polls, retries, PIN lockout counting); their access events stay.
SCAN_KEEP = timedelta(days=1)
GALLERY_STEPS_KEEP = timedelta(days=2)  # members.personal_data: GalleryChange


@dataclass
class PurgeReport:
    scans_expired: int = 0
    jobs_planned: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    scans_deleted: int = 0
    retired_templates_erased: int = 0
    pin_lockouts_deleted: int = 0
    report_files_erased: int = 0
    requests_deleted: int = 0
    audit_entries_deleted: int = 0
    erasure_jobs_deleted: int = 0
    gallery_changes_deleted: int = 0
    api_tokens_deleted: int = 0
    pending_face_photos_erased: int = 0
    door_commands_deleted: int = 0
    door_events_deleted: int = 0


def _erase_door_photo(job: ErasureJob) -> str:
    return "deleted" if door.drop_frame(scan_id=job.subject_id) else "already gone"


def _erase_biometrics(job: ErasureJob) -> str:
    member = Member.objects.filter(pk=job.subject_id).first()
    if member is None:
        return "already gone"
    receipt = erase_biometrics(member=member, actor=None, reason="membership ended")
    return f"{receipt['face_templates']} template(s), {receipt['member_photos'] + receipt['door_photos']} photo(s)"


def _erase_member(job: ErasureJob) -> str:
    member = Member.objects.filter(pk=job.subject_id).first()
    if member is None:
        return "already gone"
    receipt = services.erase_member(member=member, actor=None, reason="retention period after membership ended")
    return f"erased; {receipt['check_ins_anonymised']} check-in(s) anonymised"


def _erase_pin(job: ErasureJob) -> str:
    member = Member.objects.filter(pk=job.subject_id).first()
    if member is None:
        return "already gone"
    return "deleted" if erase_pin(member=member, actor=None, reason="membership ended") else "already gone"


def _erase_marketing(job: ErasureJob) -> str:
    member = Member.objects.filter(pk=job.subject_id).first()
    if member is None:
        return "already gone"
    n = services.erase_marketing_consent(member=member, actor=None, reason="marketing period after membership ended")
    return f"{n} record(s) deleted"


def _erase_exclusion(job: ErasureJob) -> str:
    deleted, _ = Exclusion.objects.filter(pk=job.subject_id).delete()
    return "deleted" if deleted else "already gone"


HANDLERS: dict[str, Callable[[ErasureJob], str]] = {
    ErasureJob.Kind.DOOR_PHOTO: _erase_door_photo,
    ErasureJob.Kind.BIOMETRICS: _erase_biometrics,
    ErasureJob.Kind.MEMBER: _erase_member,
    ErasureJob.Kind.EXCLUSION: _erase_exclusion,
    ErasureJob.Kind.PIN: _erase_pin,
    ErasureJob.Kind.MARKETING: _erase_marketing,
}


def _plan(kind: str, subject_type: str, rows) -> int:
    """rows: (subject id, chain id, due datetime); one open job per subject (ignore_conflicts)."""
    rows = list(rows)
    ErasureJob.objects.bulk_create(
        [
            ErasureJob(chain_id=chain_id, kind=kind, subject_type=subject_type, subject_id=str(pk), due_at=due_at)
            for pk, chain_id, due_at in rows
        ],
        ignore_conflicts=True,
    )
    return len(rows)


# Planning reads what is due, then inserts its jobs; a job's transaction erases and marks the job
# done. Were they to overlap, planning could read a subject as due just before a job erases it and
# insert a second job just after (the first no longer open): the subject would be erased, and
# audited, twice. On PostgreSQL planning therefore holds this advisory lock exclusively and every
# job's transaction holds it shared; SQLite runs one writing transaction at a time anyway.
PLANNING_LOCK = 0x6A7573_7466  # any number; planning and jobs must use the same


def _hold_planning_lock(*, exclusive: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_xact_lock{'' if exclusive else '_shared'}(%s)", [PLANNING_LOCK])


def plan_due_jobs(*, at: datetime) -> int:
    """Every job that is due and not yet planned; waits for the jobs under way to commit."""
    with transaction.atomic():
        _hold_planning_lock(exclusive=True)
        return plan_door_photo_jobs(at=at) + plan_policy_jobs(at=at)


def plan_door_photo_jobs(*, at: datetime) -> int:
    return _plan(
        ErasureJob.Kind.DOOR_PHOTO,
        "access.scan",
        frames_due(at=at).values_list("pk", "centre__chain_id", "frame_expires_at"),
    )


def plan_policy_jobs(*, at: datetime) -> int:
    """Erasures the chains' retention policies make due: templates and photos once a
    membership has ended, the whole member after the check-in period, ended exclusions."""
    today = timezone.localdate(at)
    return (
        _plan(
            ErasureJob.Kind.BIOMETRICS,
            "members.member",
            ((m.pk, m.chain_id, at) for m in services.members_due_biometric_erasure(today=today)),
        )
        + _plan(
            ErasureJob.Kind.MEMBER,
            "members.member",
            ((m.pk, m.chain_id, at) for m in services.members_due_erasure(today=today)),
        )
        + _plan(
            ErasureJob.Kind.PIN,
            "members.member",
            ((m.pk, m.chain_id, at) for m in services.members_due_pin_erasure(today=today)),
        )
        + _plan(
            ErasureJob.Kind.MARKETING,
            "members.member",
            ((m.pk, m.chain_id, at) for m in services.members_due_marketing_erasure(today=today)),
        )
        + _plan(
            ErasureJob.Kind.EXCLUSION,
            "members.exclusion",
            ((e.pk, e.chain_id, at) for e in services.exclusions_due(today=today)),
        )
    )


def claim(job: ErasureJob) -> bool:
    """Compare-and-lock: the job is this worker's if its row, still undone and with the claim this
    worker read, can be locked now; a row another worker holds is skipped, not waited for. Called
    inside the job's transaction, whose end (commit, rollback, or the connection dropping with a
    dead worker) releases it. A lock, not an update: planning's INSERT ... ON CONFLICT never waits
    on a job under way."""
    return bool(
        list(
            ErasureJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job.pk, done_at=None, claimed_at=job.claimed_at)
            .values_list("pk", flat=True)
        )
    )


def run_due_jobs(*, at: datetime) -> tuple[int, int]:
    done = failed = 0
    due = (
        ErasureJob.objects.filter(done_at=None, due_at__lte=at, kind__in=list(HANDLERS))
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=at - CLAIM_EXPIRES))
        .order_by("due_at")[:BATCH]
    )
    for job in due:
        try:
            with transaction.atomic():
                _hold_planning_lock(exclusive=False)
                if not claim(job):
                    continue  # another worker has it, or has done it
                outcome = HANDLERS[job.kind](job)
                ErasureJob.objects.filter(pk=job.pk).update(done_at=timezone.now(), claimed_at=at, outcome=outcome)
                audit.record(
                    action=f"{job.kind}.erase",
                    object_type=job.subject_type,
                    object_id=job.subject_id,
                    chain_id=job.chain_id,
                    reason=f"retention deadline; {outcome}",
                )
        except Exception:
            # Ids only in the log. The erasure rolled back; the failed attempt is marked so that the
            # job waits CLAIM_EXPIRES before it is tried again (not every minute).
            logger.exception("Erasure job %s (%s) failed", job.pk, job.kind)
            metrics.erasure_failed(kind=job.kind)
            ErasureJob.objects.filter(pk=job.pk, done_at=None, claimed_at=job.claimed_at).update(claimed_at=at)
            failed += 1
            continue
        done += 1
    return done, failed


def purge_due(*, at: datetime | None = None) -> dict:
    """One pass over everything due; returns counts (never personal data: it lands in task results)."""
    at = at or timezone.now()
    report = PurgeReport(scans_expired=door.expire_stale_scans(at=at))
    report.jobs_planned = plan_due_jobs(at=at)
    report.jobs_done, report.jobs_failed = run_due_jobs(at=at)
    report.scans_deleted = door.purge_old_scans(before=at - SCAN_KEEP)
    report.retired_templates_erased = erase_templates_of_retired_models()
    report.pin_lockouts_deleted = door.purge_pin_lockouts(at=at)
    report.door_commands_deleted = door_agents.purge_commands(before=at - SCAN_KEEP)
    report.door_events_deleted = door_agents.purge_door_events(at=at)
    report.report_files_erased = reports.erase_expired_exports(at=at)
    today = timezone.localdate(at)
    report.requests_deleted = services.purge_closed_requests(today=today)
    report.audit_entries_deleted = services.purge_audit_trail(today=today)
    report.erasure_jobs_deleted = services.purge_done_jobs(today=today)
    report.gallery_changes_deleted = purge_gallery_changes(before=at - GALLERY_STEPS_KEEP)
    report.api_tokens_deleted = delete_expired_api_tokens(at=at)
    report.pending_face_photos_erased = erase_expired_pending_photos(
        before=at - timedelta(days=settings.PENDING_FACE_PHOTO_DAYS)
    )
    return asdict(report)


def clear_sessions() -> None:
    """Expired login sessions (Django's clearsessions), daily on django-q (schedule retention.clear_sessions)."""
    call_command("clearsessions")


def erase_templates_of_retired_models() -> int:
    """Templates of a model the settings no longer name (neither JUSTFACE_FACE_MODEL nor, while
    members move, JUSTFACE_FACE_MODEL_PREVIOUS) can never match again: erase them like any other
    template. Idempotent (rows are locked and deleted in one transaction per chain)."""
    keep = installed_models()
    chains = FaceTemplate.objects.exclude(model_name__in=keep).values_list("member__chain_id", flat=True).distinct()
    return sum(
        erase_retired_templates(chain_id=c, keep_models=keep, actor=None, reason="face model retired")
        for c in list(chains)
    )

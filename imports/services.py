"""Importing a file of members: every row goes through the one member upsert the integration
API uses (integration.sync.upsert_members), in batches, so a file and an API call write exactly
alike (validation, exclusion list, end of membership, audit entries, the member feed).

A dry run writes the same batches inside a transaction that is rolled back: the counts and rows
it shows are what the real run would do, and nothing stays (no member, no audit entry, no e-mail)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imports.files import BadFile, Row, count_rows, is_xlsx, read_rows
from imports.models import ImportJob
from integration.sync import upsert_members
from justface import audit, private_files
from members.models import Chain

BATCH_ROWS = 5_000
# One worker task's share of a long file; the next task goes on from there (django-q's timeout is 300 s).
SLICE_SECONDS = 120
OUTCOMES = ("created", "updated", "unchanged", "error")
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    samples: dict[str, list[dict]] = field(default_factory=lambda: {o: [] for o in OUTCOMES})
    rows: int = 0

    def add(self, row: Row, outcome: dict, *, dry_run: bool) -> None:
        kind = outcome["outcome"]
        self.counts[kind] += 1
        self.rows += 1
        if len(self.samples[kind]) < ImportJob.SAMPLE_ROWS:
            sample = {"line": row.line, "external_id": row.external_id}
            for key in ("field", "message", "changed", "warning"):
                if outcome.get(key):
                    sample[key] = outcome[key]
            if not dry_run and outcome.get("member_id"):
                sample["member_id"] = outcome["member_id"]
            self.samples[kind].append(sample)


def check_file(content: bytes) -> None:
    """Refuse at once what cannot be imported: too large, or a header that is not the template's."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than %(mb)d MB: split it.") % {"mb": MAX_FILE_BYTES // 2**20})
    try:
        next(iter(read_rows(content)), None)
    except BadFile as error:
        raise ValidationError(str(error), code="bad_file") from None


def import_batch(*, chain: Chain, rows: list[Row], actor, dry_run: bool, how: str) -> list[tuple[Row, dict]]:
    """One batch through the upsert (rolled back on a dry run); each row with its outcome."""
    good = [r for r in rows if r.error is None]
    outcomes: Iterator = iter(())
    if good:
        pairs = [(r.external_id, r.data) for r in good]
        if dry_run:
            with transaction.atomic():
                outcomes = iter([o.as_dict() for o in upsert_members(chain=chain, rows=pairs, actor=actor, how=how)])
                transaction.set_rollback(True)
        else:
            outcomes = iter([o.as_dict() for o in upsert_members(chain=chain, rows=pairs, actor=actor, how=how)])
    answered = []
    for row in rows:
        if row.error is not None:
            answered.append((row, {"outcome": "error", "field": row.error[0], "message": row.error[1]}))
        else:
            answered.append((row, next(outcomes)))
    return answered


def batches(rows: Iterable[Row], size: int = BATCH_ROWS) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def import_file(
    *, chain: Chain, content: bytes, actor, dry_run: bool, how: str, progress: Callable[[int], None] | None = None
) -> Tally:
    """The whole file in this process (manage.py import_members): BadFile when it cannot be read."""
    tally = Tally()
    for batch in batches(read_rows(content)):
        for row, outcome in import_batch(chain=chain, rows=batch, actor=actor, dry_run=dry_run, how=how):
            tally.add(row, outcome, dry_run=dry_run)
        if progress:
            progress(len(batch))
    return tally


# The background import (admin) ---------------------------------------------------------------


def start_job(*, chain: Chain, actor, content: bytes, original_name: str, dry_run: bool) -> ImportJob:
    """Keep the file encrypted and queue the run; the worker deletes the file when it ends."""
    check_file(content)
    from django_q.tasks import async_task  # the task payload is the job's id only

    with transaction.atomic():
        job = ImportJob.objects.create(
            chain=chain,
            created_by=actor if getattr(actor, "pk", None) else None,
            original_name=original_name[-200:],
            stored_file=private_files.save("import", content),
            dry_run=dry_run,
        )
        kind = "dry run" if dry_run else "import"
        audit.record(
            action="import.start", actor=actor, obj=job, reason=f"{kind}; {'xlsx' if is_xlsx(content) else 'csv'}"
        )
        transaction.on_commit(lambda: async_task("imports.jobs.run", str(job.pk)))
    return job


def run_slice(job_id: str, *, seconds: float = SLICE_SECONDS) -> bool:
    """Run the job's next rows for about `seconds`; True when rows are left for another task.
    Each batch commits with the job's counts under the job's row lock, so a task delivered twice
    (a worker that died) finds the counts moved on and stops instead of importing twice."""
    job = ImportJob.objects.select_related("chain", "created_by").filter(pk=job_id).first()
    if job is None or job.state in (ImportJob.State.DONE, ImportJob.State.FAILED) or not job.stored_file:
        return False
    try:
        content = private_files.read(job.stored_file)
        if job.total_rows is None:
            total = count_rows(content)  # the whole file read once: a broken one fails here
            ImportJob.objects.filter(pk=job.pk).update(
                total_rows=total, state=ImportJob.State.RUNNING, started_at=timezone.now()
            )
            job.total_rows = total
        deadline = time.monotonic() + seconds
        offset = job.processed_rows
        rows = islice(read_rows(content), offset, None)
        how = f"{'dry run of ' if job.dry_run else ''}import {job.pk}"
        for batch in batches(rows):
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.processed_rows != offset or locked.state != ImportJob.State.RUNNING:
                    return False  # another task has this job
                tally = Tally(counts={k: 0 for k in OUTCOMES}, samples=locked.samples or {o: [] for o in OUTCOMES})
                for row, outcome in import_batch(
                    chain=job.chain, rows=batch, actor=job.created_by, dry_run=job.dry_run, how=how
                ):
                    tally.add(row, outcome, dry_run=job.dry_run)
                offset += len(batch)
                locked.processed_rows = offset
                locked.created += tally.counts["created"]
                locked.updated += tally.counts["updated"]
                locked.unchanged += tally.counts["unchanged"]
                locked.errors += tally.counts["error"]
                locked.samples = tally.samples
                locked.save(update_fields=["processed_rows", "created", "updated", "unchanged", "errors", "samples"])
            if time.monotonic() > deadline and offset < job.total_rows:
                return True
    except BadFile as error:
        _finish(job, failure=str(error))
        return False
    except Exception:
        _finish(job, failure=_("The import stopped on an unexpected error; the rows counted so far were imported."))
        raise
    _finish(job)
    return False


def _finish(job: ImportJob, *, failure: str = "") -> None:
    """End the run: the uploaded file is deleted whatever happened."""
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED if failure else ImportJob.State.DONE,
            failure=failure[:255],
            finished_at=timezone.now(),
            stored_file="",
        )
        if job.stored_file:
            private_files.delete_on_commit([job.stored_file])
        job.refresh_from_db()
        audit.record(
            action="import.finish",
            actor=job.created_by,
            obj=job,
            reason=f"{job.state}; created {job.created}, updated {job.updated}, unchanged {job.unchanged}, "
            f"errors {job.errors}",
        )


def purge_old_jobs() -> int:
    """Delete jobs older than JUSTFACE_IMPORT_KEEP_DAYS (their rows name members by number), and
    the file of any job that never finished within a day (a worker that was never started)."""
    now = timezone.now()
    stale = ImportJob.objects.exclude(stored_file="").filter(created_at__lt=now - timedelta(days=1))
    for job in stale:
        _finish(job, failure=_("No background worker ran the import within a day; the file was deleted."))
    old = ImportJob.objects.filter(created_at__lt=now - timedelta(days=settings.JUSTFACE_IMPORT_KEEP_DAYS))
    return old.delete()[0]


def erase_member_rows(*, member) -> int:
    """A member's erasure: the rows naming their number in the chain's import jobs' first rows go
    (the registry's `member_import` category). Returns how many rows went."""
    from justface.crypto import normalise_member_number

    number = normalise_member_number(member.member_number)
    removed = 0
    for job in ImportJob.objects.filter(chain_id=member.chain_id).exclude(samples={}):
        kept = {
            kind: [r for r in rows if normalise_member_number(str(r.get("external_id", ""))) != number]
            for kind, rows in (job.samples or {}).items()
        }
        gone = sum(len(rows) for rows in job.samples.values()) - sum(len(rows) for rows in kept.values())
        if gone:
            ImportJob.objects.filter(pk=job.pk).update(samples=kept)
            removed += gone
    return removed

"""Erasure jobs with several workers that may die: the claim, the erasure, the done mark and the
audit entry commit together, so a job is never done twice nor left done-but-unmarked; a worker's
failure or death rolls everything back and the job runs again (qcluster killed mid-purge)."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from access.models import Scan
from justface.models import AuditEntry
from retention import jobs
from retention.jobs import CLAIM_EXPIRES, purge_due
from retention.models import ErasureJob
from tests.access.conftest import kept_files
from tests.conftest import face_photo


def due_door_photo(tablet) -> tuple[Scan, timedelta]:
    response = tablet.scan(face_photo("Colin_Powell", 2))
    assert response.json()["status"] == "granted"
    scan = Scan.objects.get(pk=response.json()["id"])
    return scan, scan.frame_expires_at + timedelta(seconds=1) - timezone.now()


def erasures_of(scan: Scan) -> int:
    return AuditEntry.objects.filter(action="door_photo.erase", object_id=str(scan.pk)).count()


def test_a_job_whose_erasure_fails_half_way_leaves_nothing_half_done(
    tablet_a, colin, private_root, monkeypatch, django_capture_on_commit_callbacks
):
    scan, until_due = due_door_photo(tablet_a)
    real = jobs.HANDLERS["door_photo"]

    def erase_then_fail(job):
        real(job)  # the frame's row is cleared in this transaction...
        raise RuntimeError("the disk went away")  # ...and then the job fails

    monkeypatch.setitem(jobs.HANDLERS, "door_photo", erase_then_fail)
    at = timezone.now() + until_due
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_due(at=at)["jobs_failed"] == 1
    scan.refresh_from_db()
    job = ErasureJob.objects.get()
    assert scan.frame_file and len(kept_files(private_root)) == 1  # rolled back: the frame is still kept
    assert job.done_at is None and job.claimed_at == at and erasures_of(scan) == 0
    monkeypatch.setitem(jobs.HANDLERS, "door_photo", real)
    assert purge_due(at=at + timedelta(minutes=1))["jobs_done"] == 0  # a failed job waits before its next try
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_due(at=at + CLAIM_EXPIRES + timedelta(seconds=1))["jobs_done"] == 1
    job.refresh_from_db()
    assert job.outcome == "deleted" and erasures_of(scan) == 1 and kept_files(private_root) == []


class WorkerDied(BaseException):
    """Ends the dying worker's thread; not an Exception, so nothing in the job catches it."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks between workers need PostgreSQL (SQLite locks the whole file)",
)
def test_a_worker_killed_mid_job_leaves_the_job_to_the_next_pass_and_it_runs_once(
    tablet_a, colin, private_root, monkeypatch
):
    scan, until_due = due_door_photo(tablet_a)
    at = timezone.now() + until_due
    real = jobs.HANDLERS["door_photo"]
    inside, die = threading.Event(), threading.Event()

    def erase_then_hang_and_die(job):
        outcome = real(job)
        if threading.current_thread() is not worker:
            return outcome
        inside.set()  # erased, not committed
        die.wait(30)
        # As when its machine or process dies: the database connection drops mid-transaction.
        sock = socket.socket(fileno=connection.connection.pgconn.socket)
        sock.shutdown(socket.SHUT_RDWR)
        sock.detach()
        raise WorkerDied

    def doomed() -> None:
        try:
            purge_due(at=at)
        except WorkerDied:
            pass
        finally:
            connection.close()

    monkeypatch.setitem(jobs.HANDLERS, "door_photo", erase_then_hang_and_die)
    worker = threading.Thread(target=doomed)
    worker.start()
    assert inside.wait(30)
    # Another worker meanwhile: the job's row is locked, so it skips it at once (no waiting).
    assert jobs.run_due_jobs(at=at) == (0, 0)
    die.set()
    worker.join(30)
    assert not worker.is_alive()
    # Nothing of the dead worker's job committed; the next pass (any worker) does it, once.
    scan.refresh_from_db()
    assert scan.frame_file and ErasureJob.objects.get().done_at is None and erasures_of(scan) == 0
    report = purge_due(at=at + timedelta(minutes=1))
    assert (report["jobs_done"], report["jobs_failed"]) == (1, 0)
    assert ErasureJob.objects.get().outcome == "deleted" and erasures_of(scan) == 1
    assert purge_due(at=at + timedelta(minutes=20))["jobs_done"] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the planning lock is PostgreSQL's (SQLite runs one writing transaction at a time)",
)
def test_planning_never_reads_a_subject_a_job_is_erasing(tablet_a, colin, private_root, monkeypatch):
    """Without the planning lock, planning that read the door photo as due while a job was erasing
    it inserted a second job once the first was done: the photo was erased, and audited, twice."""
    scan, until_due = due_door_photo(tablet_a)
    at = timezone.now() + until_due
    jobs.plan_due_jobs(at=at)
    real_handler, real_plan = jobs.HANDLERS["door_photo"], jobs._plan
    planning_read, job_committed = threading.Event(), threading.Event()

    def erase_while_planning_reads(job):
        outcome = real_handler(job)
        planning_read.wait(2)  # give planning every chance to read before this job commits
        return outcome

    def plan_after_the_job_commits(kind, subject_type, rows):
        rows = list(rows)  # planning has read what is due...
        if kind == "door_photo":
            planning_read.set()
            job_committed.wait(10)  # ...and inserts only once the job has committed
        return real_plan(kind, subject_type, rows)

    monkeypatch.setitem(jobs.HANDLERS, "door_photo", erase_while_planning_reads)
    monkeypatch.setattr(jobs, "_plan", plan_after_the_job_commits)

    def worker() -> None:
        try:
            assert jobs.run_due_jobs(at=at) == (1, 0)
        finally:
            job_committed.set()
            connection.close()

    def planner() -> None:
        try:
            jobs.plan_due_jobs(at=at)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker), threading.Thread(target=planner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert ErasureJob.objects.filter(subject_id=str(scan.pk)).count() == 1 and erasures_of(scan) == 1
    assert jobs.run_due_jobs(at=at + timedelta(minutes=1)) == (0, 0)

"""Prometheus metrics written by the code that does the work (docs/operations.md, "Metrics").

Counters and histograms are kept per process. Under gunicorn and in a django-q2 cluster (several
processes) each process writes its values to files in JUSTFACE_METRICS_DIR (prometheus-client's
multi-process mode) and whoever is scraped sums them; in a single process (runserver, tests) they
live in memory. The state of the database (queues, erasure deadlines, members) is not counted here
but read at scrape time (monitoring.collectors).

Labels carry ids only (chain, centre, door) and closed sets of words (reasons, methods, task
names): never a name, a member number or an e-mail (tests/monitoring/test_labels.py).
JUSTFACE_METRICS=0 turns every call here into nothing, and /metrics into a 404."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

# (settings.py puts JUSTFACE_METRICS_DIR in the environment as PROMETHEUS_MULTIPROC_DIR before
# prometheus-client is first imported: that import decides between memory and files.)

ENABLED: bool = settings.JUSTFACE_METRICS
MULTIPROCESS: bool = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

DOOR = ("chain", "centre", "door")
# A door scan's answer: 150 ms is the one-tablet target (docs/door.md); 0.5 s the alert's threshold.
LATENCY_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)
SEARCH_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))

DECISIONS = Counter(
    "justface_door_decisions_total",
    "Door decisions (one per scan or PIN entry) by method, outcome and reason.",
    [*DOOR, "method", "decision", "reason"],
)
REQUEST_SECONDS = Histogram(
    "justface_door_request_seconds",
    "Time from a door tablet's request reaching the node to its answer, by door API endpoint.",
    [*DOOR, "endpoint"],
    buckets=LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "justface_door_stage_seconds",
    "Time of one stage of a door decision: frame_analysis (detection, quality, liveness, template) "
    "or gallery_search (bringing the gallery up to date and the 1:N search).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
CHALLENGES = Counter(
    "justface_liveness_challenges_total",
    "Head-turn challenges: issued, and how the scans that had one ended (passed, failed).",
    [*DOOR, "outcome"],
)
GREY_ZONE = Counter(
    "justface_grey_zone_confirmations_total",
    "Grey-zone faces asked for the proposed member's PIN, by how it ended "
    "(ok, wrong_pin, pin_locked, not_confirmed, or another refusal after the PIN).",
    [*DOOR, "outcome"],
)
PIN_LOCKOUTS = Counter(
    "justface_pin_lockouts_total",
    "PIN lockouts started: a member number's (15 minutes) or a device's PIN pad.",
    [*DOOR, "key"],
)
PASSIVE_SCORE = Histogram(
    "justface_liveness_passive_score",
    "Passive liveness score of the door frames that were checked.",
    DOOR,
    buckets=SCORE_BUCKETS,
)
LIVENESS_FAILURES = Counter(
    "justface_liveness_failures_total",
    "Scans refused liveness_failed, by the layer that refused (passive, challenge).",
    [*DOOR, "layer"],
)
GALLERY_BUILD_SECONDS = Histogram(
    "justface_gallery_build_seconds",
    "Time to build a gallery snapshot: from the database (build) or by folding recent changes (fold).",
    ["chain", "how"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
GALLERY_LAST_FOLD = Gauge(
    "justface_gallery_last_fold_timestamp_seconds",
    "When a process of this node last wrote a snapshot of the chain's gallery (Unix time).",
    ["chain"],
    multiprocess_mode="max",
)
TASKS = Counter(
    "justface_task_runs_total",
    "Background tasks (django-q2) finished, by task and outcome (success, failure).",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "justface_task_seconds",
    "Time from a background task's enqueueing to its end (the wait in the queue included).",
    ["task"],
    buckets=(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)
LAST_TASK = Gauge(
    "justface_task_last_finished_timestamp_seconds",
    "When this node's cluster last finished a task (Unix time).",
    multiprocess_mode="max",
)
ERASURE_FAILURES = Counter(
    "justface_erasure_job_failures_total",
    "Erasure jobs whose erasure failed (rolled back; tried again later), by kind.",
    ["kind"],
)


def _door(scan) -> dict[str, str]:
    return {"chain": str(scan.centre.chain_id), "centre": str(scan.centre_id), "door": str(scan.door_id)}


def door_decided(*, scan, reason: str, liveness=None) -> None:
    """One door decision has been recorded (access.services._decide)."""
    if not ENABLED:
        return
    door = _door(scan)
    DECISIONS.labels(**door, method=str(scan.method), decision=str(scan.status), reason=reason).inc()
    if scan.method == "face_pin" or reason == "not_confirmed":
        GREY_ZONE.labels(**door, outcome=reason).inc()
    if liveness is None:
        return
    if liveness.passive is not None:
        PASSIVE_SCORE.labels(**door).observe(float(liveness.passive))
    if liveness.challenge:
        CHALLENGES.labels(**door, outcome="passed" if liveness.challenge_passed else "failed").inc()
    if reason == "liveness_failed":
        LIVENESS_FAILURES.labels(**door, layer=liveness.layer or "passive").inc()


def challenge_issued(*, scan) -> None:
    if ENABLED:
        CHALLENGES.labels(**_door(scan), outcome="issued").inc()


def pin_lockout(*, scan, key: str) -> None:
    if ENABLED:
        PIN_LOCKOUTS.labels(**_door(scan), key=key).inc()


@contextmanager
def timed(stage: str):
    """Times one stage of a door decision (STAGE_SECONDS)."""
    if not ENABLED:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        STAGE_SECONDS.labels(stage=stage).observe(time.perf_counter() - start)


def door_request(*, ids: dict, endpoint: str, seconds: float) -> None:
    """A door API request has been answered (justface.request_log)."""
    if ENABLED and ids.get("door"):
        REQUEST_SECONDS.labels(
            chain=str(ids.get("chain", "")), centre=str(ids.get("centre", "")), door=str(ids["door"]), endpoint=endpoint
        ).observe(seconds)


def gallery_built(*, chain_id: int, how: str, seconds: float) -> None:
    """A gallery snapshot was built: from the database (build) or by folding changes (fold)."""
    if ENABLED:
        GALLERY_BUILD_SECONDS.labels(chain=str(chain_id), how=how).observe(seconds)


def gallery_written(*, chain_id: int) -> None:
    """A snapshot of the chain's gallery was written to this node's shared file."""
    if ENABLED:
        GALLERY_LAST_FOLD.labels(chain=str(chain_id)).set(time.time())


def task_finished(*, task: str, success: bool, seconds: float | None) -> None:
    if not ENABLED:
        return
    TASKS.labels(task=task, outcome="success" if success else "failure").inc()
    if seconds is not None:
        TASK_SECONDS.labels(task=task).observe(seconds)
    LAST_TASK.set(time.time())


def erasure_failed(*, kind: str) -> None:
    if ENABLED:
        ERASURE_FAILURES.labels(kind=kind).inc()

"""Metrics read at scrape time: the database's state (every web node reports the same values:
aggregate with max() across instances), and this node's gallery snapshots. Read at most once per
CACHE_SECONDS per process, so a scrape every few seconds costs a few small queries, not a table
scan each. Labels: ids of chains, centres and doors, and words from closed sets (statuses, kinds)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

CACHE_SECONDS = 5.0
# An erasure job not done this long after its due time is overdue: the purge runs every minute,
# so a job this late means the work is stuck or failing (the DPO is paged: deploy/prometheus).
ERASURE_OVERDUE = timedelta(minutes=15)


# Members and consents per chain change slowly and cost a pass over the members: read less often.
POPULATION_SECONDS = 60.0


class _Cached:
    """collect() from `read` at most once per `seconds()` in this process."""

    def __init__(self, read, seconds=lambda: CACHE_SECONDS):
        self.read, self.seconds, self.lock, self.at, self.families = read, seconds, threading.Lock(), 0.0, []

    def collect(self) -> Iterator[Metric]:
        with self.lock:
            if time.monotonic() - self.at > self.seconds():
                self.families, self.at = list(self.read()), time.monotonic()
            return iter(self.families)


def _gauge(name: str, documentation: str, labels: list[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, value in rows:
        family.add_metric([str(v) for v in values], float(value))
    return family


def database_state() -> Iterator[Metric]:
    from access.models import DoorAgent, PinLockout, Scan
    from members.models import Chain, DataSubjectRequest
    from retention.models import ErasureJob

    now = timezone.now()
    open_scans = Scan.objects.filter(
        status__in=[Scan.Status.PENDING, Scan.Status.CHALLENGE, Scan.Status.CONFIRM]
    ).values_list("centre__chain_id", "centre_id", "status")
    yield _gauge(
        "justface_scans_open",
        "Scans not decided yet: pending (being decided), challenge (awaiting the head-turn), "
        "confirm (awaiting the PIN).",
        ["chain", "centre", "status"],
        open_scans.annotate(n=Count("id")).order_by(),
    )
    lockouts = PinLockout.objects.filter(locked_until__gt=now)
    yield _gauge(
        "justface_pin_lockouts_active",
        "PIN lockouts in force: member numbers and devices' PIN pads.",
        ["chain", "key"],
        [
            (chain, key, n)
            for key, rows in (
                ("member_number", lockouts.filter(device=None)),
                ("device", lockouts.exclude(device=None)),
            )
            for chain, n in rows.values_list("chain_id").annotate(n=Count("id")).order_by()
        ],
    )
    yield from _background_work(now)
    due = ErasureJob.objects.filter(done_at=None, due_at__lte=now)
    family = GaugeMetricFamily(
        "justface_erasure_jobs",
        f"Erasure jobs not done: due (past their due time), overdue (more than {ERASURE_OVERDUE} past it).",
        labels=["chain", "kind", "state"],
    )
    for state, rows in (("due", due), ("overdue", due.filter(due_at__lte=now - ERASURE_OVERDUE))):
        for chain, kind, n in rows.values_list("chain_id", "kind").annotate(n=Count("id")).order_by():
            family.add_metric([str(chain), kind, state], n)
    yield family
    yield _gauge(
        "justface_erasure_oldest_due_seconds",
        "How long the oldest erasure job not done has been past its due time (0: none due).",
        ["chain"],
        [
            (chain_id, max((now - oldest).total_seconds(), 0.0))
            for chain_id, oldest in due.values_list("chain_id").annotate(oldest=Min("due_at")).order_by()
        ]
        + [(c, 0.0) for c in Chain.objects.exclude(pk__in=due.values("chain_id")).values_list("pk", flat=True)],
    )
    open_requests = DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN_STATUSES)
    rows = list(open_requests.values_list("chain_id", "kind").annotate(n=Count("id"), first=Min("due_at")).order_by())
    yield _gauge(
        "justface_data_subject_requests_open",
        "Data-subject requests received and not yet answered.",
        ["chain", "kind"],
        [(chain, kind, n) for chain, kind, n, _ in rows],
    )
    yield _gauge(
        "justface_data_subject_request_days_left",
        "Days until the deadline of the chain's open request of this kind that is due first (negative: late).",
        ["chain", "kind"],
        [(chain, kind, (first - now).total_seconds() / 86400) for chain, kind, _, first in rows],
    )
    agents = DoorAgent.objects.filter(revoked_at=None).values_list(
        "door__centre__chain_id", "door__centre_id", "door_id", "offline_reported_at"
    )
    yield _gauge(
        "justface_door_agent_offline",
        "1 for a door whose agent is reported offline (silent past JUSTFACE_DOOR_AGENT_OFFLINE_SECONDS), else 0.",
        ["chain", "centre", "door"],
        [(chain, centre, door, 0 if seen is None else 1) for chain, centre, door, seen in agents],
    )
    yield _gauge(
        "justface_gallery_database_version",
        "Each chain's gallery version in the database (every template added or removed bumps it).",
        ["chain"],
        Chain.objects.values_list("pk", "gallery_version"),
    )


def population() -> Iterator[Metric]:
    from consent.models import ConsentDocument, ConsentRecord
    from members.models import Member

    yield _gauge(
        "justface_members",
        "Members per chain, by status.",
        ["chain", "status"],
        Member.objects.values_list("chain_id", "status").annotate(n=Count("id")).order_by(),
    )
    family = GaugeMetricFamily(
        "justface_consents",
        "Members per chain whose latest consent record of the kind is a signature (not withdrawn).",
        labels=["chain", "kind"],
    )
    for kind in ConsentDocument.Kind.values:
        signed = (
            Member.objects.annotate(
                last=Subquery(
                    ConsentRecord.objects.filter(member=OuterRef("pk"), document__kind=kind)
                    .order_by("-at", "-pk")
                    .values("action")[:1]
                )
            )
            .filter(last__in=[ConsentRecord.Action.SIGN, ConsentRecord.Action.GUARDIAN_CONFIRM])
            .values_list("chain_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for chain, n in signed:
            family.add_metric([str(chain), kind], n)
    yield family


def _background_work(now) -> Iterator[Metric]:
    from django_q.brokers import get_broker
    from django_q.models import Task

    family = GaugeMetricFamily("justface_q_queue_length", "Tasks waiting in django-q2's queue.")
    family.add_metric([], get_broker().queue_size())
    yield family
    last = Task.objects.aggregate(last=Max("stopped"))["last"]
    family = GaugeMetricFamily(
        "justface_q_last_task_timestamp_seconds",
        "When any cluster last finished a task, as stored in the database (Unix time; 0: never).",
    )
    family.add_metric([], last.timestamp() if last else 0.0)
    yield family


def node_galleries() -> Iterator[Metric]:
    """This node's gallery snapshots (GALLERY_DIR): what its processes search from."""
    from members.gallery import node_store, snapshot_key
    from members.models import Chain

    store, now = node_store(), time.time()
    templates = GaugeMetricFamily(
        "justface_gallery_templates", "Templates in the node's latest gallery snapshot.", labels=["chain", "model"]
    )
    lag = GaugeMetricFamily(
        "justface_gallery_version_lag",
        "Gallery versions the node's latest snapshot is behind the database (the processes replay them "
        "on each search; a growing lag means folding stopped).",
        labels=["chain", "model"],
    )
    age = GaugeMetricFamily(
        "justface_gallery_snapshot_age_seconds",
        "Age of the node's latest gallery snapshot file.",
        labels=["chain", "model"],
    )
    models = [m for m in (settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS) if m]
    for chain_id, created, version in Chain.objects.values_list("pk", "created_at", "gallery_version"):
        for model in models:
            unless = settings.FACE_MODEL if model != settings.FACE_MODEL else ""
            key = snapshot_key(chain_id, created, model, unless)
            versions = store.versions(key)
            if not versions:
                continue
            ids_path = Path(store.root) / f"{key}.v{versions[-1]}.ids.npy"
            try:
                rows, mtime = _rows(ids_path), ids_path.stat().st_mtime
            except (OSError, ValueError):
                continue  # replaced by a newer snapshot while we looked
            labels = [str(chain_id), model]
            templates.add_metric(labels, rows)
            lag.add_metric(labels, max(version - versions[-1], 0))
            age.add_metric(labels, max(now - mtime, 0.0))
    yield from (templates, lag, age)


def _rows(path: Path) -> int:
    import numpy as np

    return int(np.load(path, mmap_mode="r").shape[0])


database = _Cached(database_state)
people = _Cached(population, seconds=lambda: POPULATION_SECONDS)
galleries = _Cached(node_galleries)

"""Tablets of bench/topology_bench.py: kiosks as threads (each from its own loopback address),
their answers, and the report of a run with a node killed (decisions, errors, recovery, lost events)."""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "deploy"))
import door_bench  # noqa: E402
import prod_local  # noqa: E402

log = door_bench.log


class SourceAddress(HTTPAdapter):
    """Requests from a given loopback address (nginx's per-address limits see one tablet each)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


@dataclass
class Answer:
    started: float  # seconds since the run began
    done: float
    outcome: str  # "decision", "unavailable" (a decision that says so), "http_503", "network", ...
    scan_id: str | None = None
    status: str = ""


class Tablet(threading.Thread):
    """A kiosk: POST a frame (Idempotency-Key), once more on a network failure, poll while pending."""

    def __init__(self, n: int, base: str, token: str, frames: list[bytes], t0: float, until: float, args, cert: str):
        super().__init__(daemon=True)
        self.n, self.base, self.frames, self.t0, self.until, self.args = n, base, frames, t0, until, args
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate to trust
        self.session.verify = cert
        self.session.mount("https://", SourceAddress(f"127.0.1.{n + 1}"))
        self.session.headers["Authorization"] = f"Device {token}"
        self.answers: list[Answer] = []

    def _post(self, frame: bytes, key: str) -> requests.Response:
        return self.session.post(
            f"{self.base}/api/v1/door/scans/",
            files={"image": ("f.jpg", frame, "image/jpeg")},
            headers={"Idempotency-Key": key},
            timeout=self.args.timeout,
        )

    def run(self) -> None:
        n = self.n * 7
        # Paced tablets are doors: people arrive independently, not all tablets in step.
        rng = random.Random(self.n)
        if self.args.pace:
            time.sleep(rng.uniform(0, self.args.pace))
        while time.monotonic() < self.until:
            frame, key = self.frames[n % len(self.frames)], uuid.uuid4().hex
            n += 1
            started = time.monotonic()
            self.answers.append(self._scan(frame, key, started))
            if self.args.pace:
                time.sleep(rng.uniform(0.5, 1.5) * self.args.pace)

    def _scan(self, frame: bytes, key: str, started: float) -> Answer:
        def answer(outcome: str, body: dict | None = None) -> Answer:
            body = body or {}
            return Answer(
                started - self.t0, time.monotonic() - self.t0, outcome, body.get("id"), body.get("status", "")
            )

        try:
            try:
                response = self._post(frame, key)
            except requests.ConnectionError:
                time.sleep(0.5)  # the kiosk's one retry, same key: the server answers with the same scan
                response = self._post(frame, key)
            if response.status_code not in (200, 202):
                return answer(f"http_{response.status_code}")
            body = response.json()
            while response.status_code == 202 or body.get("status") == "pending":
                response = self.session.get(
                    f"{self.base}/api/v1/door/scans/{body['id']}/", params={"wait": 5}, timeout=self.args.timeout
                )
                if response.status_code != 200:
                    return answer(f"http_{response.status_code}", body)
                body = response.json()
        except (requests.RequestException, ValueError):
            return answer("network")
        return answer("unavailable" if body.get("reason") == "unavailable" else "decision", body)


def quantile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(sorted(values), n=100, method="inclusive")[q - 1], 1)


def analyse(env: dict) -> None:
    """ANALYZE the freshly seeded tables, as autovacuum does on a live database: without statistics
    PostgreSQL plans the gallery's first load (a server-side cursor over 10,000 templates) as a
    nested loop, 20 s instead of 0.4 s. (pg_restore leaves a restored database in that state too:
    docs/operations.md.)"""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")


def warm_up(topology: prod_local.Topology, tokens: list[str], probes: list[bytes], args, rounds: int = 6) -> None:
    """Until every worker of both nodes has loaded the model and the gallery: rounds of 5 s until
    the slowest answer of a round is under 2 s."""
    for _ in range(rounds):
        tablets, _events = tablets_run(topology, tokens, probes, args, 5, faults=False)
        slowest = max(((a.done - a.started) for t in tablets for a in t.answers), default=99)
        if slowest < 2:
            return
    log(f"  still slow after {rounds} rounds (slowest answer {slowest:.1f} s); measuring anyway")


# --- phase 1: a node killed and restarted ------------------------------------------------------


def tablets_run(
    topology: prod_local.Topology, tokens: list[str], probes: list[bytes], args, seconds: float, faults: bool
) -> tuple[list[Tablet], dict]:
    layout = topology.layout
    t0 = time.monotonic()
    until = t0 + seconds
    tablets = [
        Tablet(i, layout.base_url, tokens[i], probes, t0, until, args, str(layout.certificate))
        for i in range(args.tablets)
    ]
    for tablet in tablets:
        tablet.start()
    events: dict = {}
    if faults:
        from tqdm import tqdm

        with tqdm(total=int(seconds), desc="tablets", unit="s", file=sys.stderr, leave=False, mininterval=1) as bar:

            def tick_until(moment: float) -> None:
                while (now := time.monotonic() - t0) < moment:
                    time.sleep(min(0.2, moment - now))
                    bar.n = int(time.monotonic() - t0)
                    bar.refresh()

            tick_until(args.kill_at)
            events["kill_at_s"] = round(time.monotonic() - t0, 2)
            topology.nodes[0].kill()
            bar.write(f"node1 killed at {events['kill_at_s']} s", file=sys.stderr)
            tick_until(args.restart_at)
            events["restart_at_s"] = round(time.monotonic() - t0, 2)
            topology.nodes[0].start()
            topology.wait_for_node(0)
            events["node_back_s"] = round(time.monotonic() - t0, 2)
            bar.write(
                f"node1 restarted at {events['restart_at_s']} s, answering at {events['node_back_s']} s",
                file=sys.stderr,
            )
            tick_until(seconds)
    for tablet in tablets:
        tablet.join()
    events["elapsed_s"] = round(time.monotonic() - t0, 2)
    return tablets, events


def fault_report(tablets: list[Tablet], events: dict, run_started_at) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from access import services as door
    from access.models import AccessEvent, Scan

    kill = events["kill_at_s"]
    answers = [a for t in tablets for a in t.answers]
    decided = [a for a in answers if a.outcome == "decision"]
    latencies = [(a.done - a.started) * 1000 for a in decided]
    # A tablet has recovered when a scan it sent after the kill is decided (an answer to a request
    # sent before, from the other node, says nothing about the fault).
    recovery, errors_after, errors_during = {}, 0, 0
    for tablet in tablets:
        back = next((a.done for a in tablet.answers if a.outcome == "decision" and a.started >= kill), None)
        recovery[tablet.n] = round(back - kill, 2) if back is not None else None
        for a in tablet.answers:
            if a.outcome != "decision":
                if back is not None and a.started >= back:
                    errors_after += 1
                else:
                    errors_during += 1
    # Scans orphaned by the kill (committed, never decided) are decided `unavailable` by the next
    # poll or the purge after 30 s, and grey-zone scans nobody confirmed `not_confirmed` after
    # 60 s; the tablets have stopped, so the bench does the purge's sweep now rather than wait.
    swept = door.expire_stale_scans(
        at=timezone.now() + max(door.DECISION_TIMEOUT, door.CONFIRM_WINDOW) + timedelta(seconds=1)
    )
    devices_scans = Scan.objects.filter(created_at__gte=run_started_at, device__door__centre__chain__slug="bench")
    answered_ids = {a.scan_id for a in decided}
    with_event = set(
        str(s) for s in AccessEvent.objects.filter(scan__in=devices_scans).values_list("scan_id", flat=True)
    )
    scan_ids = set(str(s) for s in devices_scans.values_list("pk", flat=True))
    answered_missing = len(answered_ids - with_event)
    scans_without_event = len(scan_ids - with_event)
    unanswered = AccessEvent.objects.filter(scan__in=devices_scans).exclude(
        scan_id__in=[uuid.UUID(i) for i in answered_ids if i]
    )
    outcomes: dict[str, int] = {}
    for a in answers:
        outcomes[a.outcome] = outcomes.get(a.outcome, 0) + 1
    before = [(a.done - a.started) * 1000 for a in decided if a.done < kill]
    after = [(a.done - a.started) * 1000 for a in decided if a.started > events["node_back_s"]]
    recoveries = [r for r in recovery.values() if r is not None]
    return {
        "decisions": len(decided),
        "lost_events": answered_missing + scans_without_event,
        "errors_after_recovery": errors_after,
        "recovery_s": max(recoveries) if len(recoveries) == len(tablets) else None,
        "p95_ms": quantile(latencies, 95),
        "tablets": len(tablets),
        "seconds": events["elapsed_s"],
        "decisions_per_s": round(len(decided) / events["elapsed_s"], 2),
        "p50_ms": quantile(latencies, 50),
        "p99_ms": quantile(latencies, 99),
        "p95_before_kill_ms": quantile(before, 95),
        "p95_after_restart_ms": quantile(after, 95),
        "errors": len(answers) - len(decided),
        "errors_during_fault": errors_during,
        "outcomes": outcomes,
        "per_tablet_recovery_s": recovery,
        "answered_without_event": answered_missing,
        "scans_without_event": scans_without_event,
        "orphaned_scans_swept": swept,
        "events_without_an_answer": dict(sorted(count_values(unanswered.values_list("reason", flat=True)).items())),
        **{k: events[k] for k in ("kill_at_s", "restart_at_s", "node_back_s")},
    }


def count_values(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


# --- phase 2: enrolled through node A, recognised by node B ------------------------------------

"""Webhook throughput to a local receiver, and what deliveries cost the door.

Recreates a PostgreSQL database, makes a chain with one endpoint on a receiver (its own process,
on loopback, checking every signature with the `standardwebhooks` reference library), starts a
real django-q2 cluster (manage.py qcluster) and then:

1. throughput: logs --events events (emit, in one transaction, as a door would one by one) and
   times them until the receiver has every one; checks none was lost, duplicated or unsigned;
2. with --door: runs bench/door_bench.py four times, without deliveries, with, with and
   without, and compares the door's p95 (the mean of each pair). While it runs with them, a
   process of its own writes events at --rate per second (standing for the chain's other doors,
   on other nodes: on the idle policy at --emitter-nice, 19 by default) and the real django-q2
   cluster delivers them, its workers as lowered as they lower themselves (justface.
   worker_priority); the receiver too stands for another machine (idle policy, nice 19; in the
   throughput run, nice 0).

    .venv/bin/python bench/webhook_bench.py                      # throughput only
    .venv/bin/python bench/webhook_bench.py --door --json        # and the door beside it
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Event, Process, Value
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_webhook_bench", help="Database to (re)create for the run.")
    parser.add_argument("--events", type=int, default=5000, help="Events delivered in the throughput run.")
    parser.add_argument("--workers", type=int, default=2, help="django-q2 workers (JUSTFACE_Q_WORKERS).")
    parser.add_argument("--port", type=int, default=8793, help="The receiver's port.")
    parser.add_argument("--door", action="store_true", help="Also run bench/door_bench.py without and with deliveries.")
    parser.add_argument(
        "--feed",
        choices=["backlog", "steady"],
        default="backlog",
        help="Beside the door: deliveries from a held backlog released as the door's runs start "
        "(only the delivery work runs beside it), or from events written at --rate meanwhile.",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        help="Events held per run with deliveries (default: 1.5 times what the pace sends while the door runs).",
    )
    parser.add_argument(
        "--webhook-rate",
        type=float,
        help="JUSTFACE_WEBHOOK_RATE beside the door (default: the setting's default; the throughput run is unpaced).",
    )
    parser.add_argument("--rounds", type=int, default=1, help="Times the without, with, with, without order runs.")
    parser.add_argument(
        "--rate",
        type=float,
        default=220,
        help="Events per second emitted beside the door bench (above 200: the target is deliveries, not events).",
    )
    parser.add_argument(
        "--emitter-nice",
        type=int,
        default=19,
        help="Nice value of the process writing the events beside the door (19: it stands for other nodes).",
    )
    parser.add_argument("--door-seconds", type=float, default=30, help="door_bench.py --seconds.")
    parser.add_argument("--door-tablets", type=int, default=4, help="door_bench.py --tablets.")
    parser.add_argument("--door-synthetic", type=int, default=10_000, help="door_bench.py --synthetic.")
    parser.add_argument("--door-port", type=int, default=8796, help="door_bench.py --port (its gunicorn).")
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the receiver (its own process) -------------------------------------------------------------


def receive(port: int, secret: str, nice: int) -> None:
    from standardwebhooks import Webhook

    from justface import worker_priority

    if nice:  # beside the door it stands for another machine: on what CPU the door leaves
        worker_priority.lower(nice, idle=True)

    verifier = Webhook(secret)
    lock = threading.Lock()
    stats = {"received": 0, "verified": 0, "ids": set()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                verifier.verify(body, {k.lower(): v for k, v in self.headers.items()}, json_parse=False)
                ok = True
            except Exception:
                ok = False
            with lock:
                stats["received"] += 1
                stats["verified"] += ok
                stats["ids"].add(self.headers.get("webhook-id"))
            self.send_response(200 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            with lock:
                answer = json.dumps(
                    {"received": stats["received"], "verified": stats["verified"], "unique": len(stats["ids"])}
                ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def start_receiver(port: int, secret: str, nice: int) -> Process:
    receiver = Process(target=receive, args=(port, secret, nice), daemon=True)
    receiver.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            receiver_stats(port)
            return receiver
        except requests.RequestException:
            time.sleep(0.1)
    sys.exit(f"the receiver did not answer on port {port}")


def stop_receiver(receiver: Process) -> None:
    receiver.terminate()
    receiver.join()


def receiver_stats(port: int) -> dict:
    return requests.get(f"http://127.0.0.1:{port}/stats", timeout=5).json()


# --- setup --------------------------------------------------------------------------------------


def environment(args) -> dict:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "JUSTFACE_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"{args.server}/{args.database}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "JUSTFACE_Q_WORKERS": str(args.workers),
        "JUSTFACE_WEBHOOK_ALLOW_NETS": "127.0.0.0/8",
    }


def recreate_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def seed(port: int) -> tuple[int, str]:
    from members.models import Chain
    from webhooks import events, services

    chain = Chain.objects.create(
        name="Bench Fitness", slug="bench", organisation_number="DK0", country="DK", dpo_email="dpo@bench.example"
    )
    _endpoint, secret = services.create_endpoint(
        chain=chain, url=f"http://127.0.0.1:{port}/hooks", event_types=list(events.EVENT_TYPES), actor=None
    )
    return chain.pk, secret


def wait_for_cluster() -> None:
    from django_q.tasks import async_task, result

    task = async_task("math.floor", 1.5)
    if result(task, wait=120_000) != 1:
        sys.exit("the django-q2 cluster did not run a task within 120 s")


def emit_events(chain_id: int, count: int, start: int = 0) -> None:
    from django.db import transaction

    from webhooks.services import emit

    with transaction.atomic():
        for n in range(start, start + count):
            data = {"access_event_id": n, "member_id": n, "external_id": f"M{n:06d}", "decision": "granted"}
            emit(chain_id=chain_id, event_type="access.check_in", data=data, member_id=n)


def wait_delivered(port: int, count: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = receiver_stats(port)
        if stats["received"] >= count:
            return stats
        time.sleep(0.05)
    return receiver_stats(port)


# --- the runs -----------------------------------------------------------------------------------


def throughput(args, chain_id: int) -> dict:
    from webhooks.models import WebhookDelivery

    before = receiver_stats(args.port)["received"]
    started = time.perf_counter()
    emit_events(chain_id, args.events)
    committed = time.perf_counter()
    stats = wait_delivered(args.port, before + args.events, timeout=max(120, args.events / 20))
    elapsed = time.perf_counter() - committed
    got = stats["received"] - before
    delivered = WebhookDelivery.objects.filter(status="delivered").count()
    return {
        "events": args.events,
        "emit_ms_per_event": round((committed - started) * 1000 / args.events, 2),
        "seconds_after_commit": round(elapsed, 2),
        "deliveries_per_s": round(got / elapsed, 1),
        "received": got,
        "unsigned": stats["received"] - stats["verified"],
        "duplicates": stats["received"] - stats["unique"],
        "lost": args.events - got,
        "delivered_in_log": delivered,
    }


def door_bench(args, database: str, on_line=None) -> dict:
    """Runs bench/door_bench.py; `on_line(line)` sees each line of its progress (stderr) as it
    comes, so the load beside it can start when its measured runs start, not during its setup."""
    command = [
        PYTHON,
        str(REPO / "bench" / "door_bench.py"),
        "--json",
        "--server",
        args.server,
        "--database",
        database,
        "--seconds",
        str(args.door_seconds),
        "--tablets",
        str(args.door_tablets),
        "--synthetic",
        str(args.door_synthetic),
        "--port",
        str(args.door_port),
        "--fresh-connections",  # else the 2-tablet figure depends on where two connections landed
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_", "DATABASE_URL", "JUSTFACE_Q"))}
    door = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []

    def follow() -> None:
        for line in door.stderr:
            errors.append(line)
            if on_line is not None:
                on_line(line.strip())

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    stdout = door.stdout.read()
    door.wait()
    follower.join(10)
    if door.returncode:
        sys.exit(f"door_bench.py failed:\n{''.join(errors)[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


MEASURING = "1 tablet for"  # door_bench.py's line as its measured runs start (after warming up)


def emit_at_rate(chain_id: int, rate: float, start: int, counter, go, stop, nice: int) -> None:
    """Events at a steady rate (in transactions of a tenth of a second's worth), in a process of
    its own: it stands for the chain's other doors, whose events other web nodes write. With
    `nice` (and the idle policy) it leaves this machine's CPU to the door and the delivery
    worker, which are what is measured; nice 0 makes it this machine's load too."""
    from justface import worker_priority

    if nice:
        worker_priority.lower(nice, idle=True)
    go.wait()
    tick, began = 0.1, time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - began) * rate) - counter.value
        if due > 0:
            emit_events(chain_id, due, start=start + counter.value)
            counter.value += due
        time.sleep(tick)


def hold_backlog(chain_id: int, count: int, start: int) -> None:
    """`count` events logged through emit and held (due tomorrow) until release_backlog: what an
    endpoint that was down for a while, or a morning's events after a night's import, has waiting."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from webhooks.models import WebhookDelivery

    with transaction.atomic():
        emit_events(chain_id, count, start=start)
        WebhookDelivery.objects.filter(status="pending").update(next_at=timezone.now() + timedelta(days=1))


def release_backlog() -> None:
    from django.db import connection
    from django.utils import timezone

    from webhooks import services
    from webhooks.models import WebhookDelivery

    try:
        WebhookDelivery.objects.filter(status="pending").update(next_at=timezone.now())
        services.kick()
    finally:
        connection.close()  # this runs in the thread following the door bench


def cancel_backlog() -> int:
    """What is left of the backlog once the door stopped (none is sent during the next run
    without deliveries); waits for the batches being sent."""
    from webhooks.models import WebhookDelivery

    left = WebhookDelivery.objects.filter(status="pending").update(status="cancelled", next_at=None)
    deadline = time.monotonic() + 60
    while WebhookDelivery.objects.filter(status="sending").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


class Window:
    """The receiver's count as the door's measured runs start and change, and as they end."""

    def __init__(self, port: int, tablets: int, start) -> None:
        self.port, self.start = port, start
        self.marks: list[tuple[str, float, int]] = []
        self.lines = {MEASURING: "single", f"{tablets} tablets for": "concurrent"}

    def __call__(self, line: str) -> None:
        for prefix, name in self.lines.items():
            if line.startswith(prefix):
                if name == "single":
                    self.start()
                self.marks.append((name, time.perf_counter(), receiver_stats(self.port)["received"]))

    def close(self) -> dict:
        self.marks.append(("end", time.perf_counter(), receiver_stats(self.port)["received"]))
        if len(self.marks) < 3:
            sys.exit("the door bench's progress lines were not seen: is bench/door_bench.py's output changed?")
        (_, t0, n0), (_, t1, n1), (_, t2, n2) = self.marks[-3:]
        return {
            "delivered_during": n2 - n0,
            "seconds": round(t2 - t0, 1),
            "per_s_single": round((n1 - n0) / (t1 - t0), 1),
            "per_s_concurrent": round((n2 - n1) / (t2 - t1), 1),
        }


def beside_the_door(args, chain_id: int) -> dict:
    """The door bench without deliveries, with, with, without (the machine's drift falls on both
    sides), --rounds times; its p95 compared as the mean of the runs with over those without.
    Deliveries start as the door's measured runs start (not during its setup) and are counted
    until it ends: from a held backlog (--feed backlog) or from events written at --rate
    (--feed steady)."""
    from django.db import connections

    phases, runs = ["off", "on", "on", "off"] * args.rounds, []
    for n, phase in enumerate(phases):
        log(
            f"door bench {n + 1}/{len(phases)} {'with' if phase == 'on' else 'without'} deliveries "
            f"({args.door_tablets} tablets, {args.door_seconds:.0f} s per run)"
        )
        if phase == "off":
            runs.append({"deliveries": "off", **door_bench(args, f"{args.database}_door")})
            continue
        first = 1_000_000 * (n + 1)
        if args.feed == "backlog":
            log(f"  holding a backlog of {args.backlog} events")
            hold_backlog(chain_id, args.backlog, first)
            before = receiver_stats(args.port)["received"]
            window = Window(args.port, args.door_tablets, release_backlog)
            run = door_bench(args, f"{args.database}_door", on_line=window)
            counted = window.close()
            left = cancel_backlog()
            got = receiver_stats(args.port)["received"] - before
            runs.append(
                {"deliveries": "on", "events": args.backlog, "delivered": got, "backlog_left": left, **counted, **run}
            )
            if not left:
                log("  the backlog ran out while the door ran: raise --backlog")
            continue
        counter, go, stop = Value("q", 0), Event(), Event()
        emitter = Process(
            target=emit_at_rate, args=(chain_id, args.rate, first, counter, go, stop, args.emitter_nice), daemon=True
        )
        connections.close_all()  # the emitter is forked: it must open its own connection
        emitter.start()
        before = receiver_stats(args.port)["received"]
        window = Window(args.port, args.door_tablets, go.set)
        try:
            run = door_bench(args, f"{args.database}_door", on_line=window)
            counted = window.close()
        finally:
            go.set()
            stop.set()
            emitter.join(30)
        stats = wait_delivered(args.port, before + counter.value, timeout=120)
        got = stats["received"] - before
        runs.append({"deliveries": "on", "events": counter.value, "delivered": got, **counted, **run})

    def p95(rows: list[dict], phase: str, part: str) -> float:
        values = [r[part]["p95_ms"] for r in rows if r["deliveries"] == phase]
        return sum(values) / len(values)

    def ratios(part: str) -> list[float]:
        rounds = [runs[i : i + 4] for i in range(0, len(runs), 4)]
        return [round(p95(r, "on", part) / p95(r, "off", part), 3) for r in rounds]

    on = [r for r in runs if r["deliveries"] == "on"]
    delivered_during, seconds = sum(r["delivered_during"] for r in on), sum(r["seconds"] for r in on)
    events = sum(r["events"] for r in on)
    cancelled = sum(r.get("backlog_left", 0) for r in on)
    delivered = sum(r["delivered"] for r in on)
    return {
        "feed": args.feed,
        "emitter_nice": args.emitter_nice if args.feed == "steady" else None,
        "rate": args.rate if args.feed == "steady" else None,
        "backlog": args.backlog if args.feed == "backlog" else None,
        "rounds": args.rounds,
        "runs": runs,
        "p95_off_single_ms": round(p95(runs, "off", "single"), 1),
        "p95_on_single_ms": round(p95(runs, "on", "single"), 1),
        "p95_off_concurrent_ms": round(p95(runs, "off", "concurrent"), 1),
        "p95_on_concurrent_ms": round(p95(runs, "on", "concurrent"), 1),
        "p95_ratio_single": round(p95(runs, "on", "single") / p95(runs, "off", "single"), 3),
        "p95_ratio_concurrent": round(p95(runs, "on", "concurrent") / p95(runs, "off", "concurrent"), 3),
        "p95_ratio_single_by_round": ratios("single"),
        "p95_ratio_concurrent_by_round": ratios("concurrent"),
        "events": events,
        "delivered": delivered,
        "cancelled_after_the_door": cancelled,
        "deliveries_per_s_during_door": round(delivered_during / seconds, 1),
        "deliveries_per_s_single": round(sum(r["per_s_single"] for r in on) / len(on), 1),
        "deliveries_per_s_concurrent": round(sum(r["per_s_concurrent"] for r in on) / len(on), 1),
        "lost": events - delivered - cancelled,
    }


def start_cluster(env: dict) -> subprocess.Popen:
    cluster = subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        # In the door's session (so its autogroup) but a process group of its own: the workers'
        # idle policy then meets the door's threads directly, as the worker unit's idle cgroup does
        # under systemd (deploy/systemd); in a session of its own only its autogroup's nice counts.
        process_group=0,
    )
    wait_for_cluster()
    return cluster


def stop_cluster(cluster: subprocess.Popen) -> None:
    cluster.send_signal(signal.SIGTERM)  # the cluster's own process: it stops its workers
    try:
        cluster.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def main() -> None:
    args = parse_args()
    env = environment(args)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    log(f"Database {args.database}: recreating and migrating")
    recreate_database(args)
    migrated = subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=REPO, env=env, capture_output=True)
    if migrated.returncode:
        sys.exit(migrated.stderr.decode()[-3000:])
    import django

    django.setup()
    from django.conf import settings

    pace = args.webhook_rate if args.webhook_rate is not None else settings.JUSTFACE_WEBHOOK_RATE
    args.backlog = args.backlog or int(1.5 * (pace or 1500) * (2 * args.door_seconds + 10))
    chain_id, secret = seed(args.port)
    receiver = start_receiver(args.port, secret, nice=0)
    # The throughput alone: the worker unpaced (what it can do); beside the door: paced as configured.
    cluster = start_cluster({**env, "JUSTFACE_WEBHOOK_RATE": "0"})
    try:
        log(f"qcluster: {args.workers} workers; {args.events} events")
        result = {"throughput": throughput(args, chain_id)}
        result["throughput"]["load_average"] = os.getloadavg()[0]
        if args.door:
            stop_cluster(cluster)
            if args.webhook_rate is not None:
                env["JUSTFACE_WEBHOOK_RATE"] = str(args.webhook_rate)
            cluster = start_cluster(env)
            # Beside the door the receiver stands for another machine: as far below the door as
            # Linux allows without privilege (a chain's receiver does not share the door's CPU).
            stop_receiver(receiver)
            receiver = start_receiver(args.port, secret, nice=19)
            try:
                result["door"] = beside_the_door(args, chain_id)
            except SystemExit as failed:  # the door bench's own failure: keep the throughput figures
                result["door"] = {"error": str(failed)[-300:]}
            result["door"]["webhook_rate"] = env.get("JUSTFACE_WEBHOOK_RATE", "default")
    finally:
        stop_cluster(cluster)
        stop_receiver(receiver)
    if args.json:
        print(json.dumps(result))
        return
    for name, row in result.items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in row.items() if not isinstance(v, dict)))


if __name__ == "__main__":
    main()

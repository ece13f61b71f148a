"""Members kept in step at chain scale: a 300,000-member load and a nightly delta, through the
integration API and through `manage.py import_members`, on a database of its own.

1. **API load**: gunicorn (DEBUG off) serves the integration API; a membership system's client
   sends --members members to `POST /api/v1/integration/members/bulk` in batches of --batch
   (10,000), each with an Idempotency-Key (a batch that fails on the network is sent again with
   the same key, as the docs tell integrators to). Reported: the wall time, members per second,
   the batches' p50/p95/max, and what the database holds afterwards: `lost` (members sent and
   not there) and `duplicated` (rows beyond one per member number), both by the keyed hash of
   the member number, and `errors` (rows answered as errors).
2. **API delta**: --delta (5,000) of those members changed (phone, membership type; every tenth
   ended, as a night's cancellations) in one request; reported the same way, and every changed
   value is read back (decrypted) from the database.
3. **File load**: the same number of members of a second chain written to a CSV file and
   imported with `manage.py import_members FILE --chain SLUG` (a process of its own, as an
   operator runs it); then the delta as a file of --delta rows, and the whole file again with
   the delta in it (a membership system that exports everything every night).

    .venv/bin/python bench/integration_bench.py [--members 300000] [--json]

Needs PostgreSQL (--server; the database --database is dropped and created). Webhook throughput
is bench/webhook_bench.py's. Progress goes to stderr; a table (or with --json one JSON object)
to stdout. Targets: TARGETS below, not timed tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import door_bench  # noqa: E402  (the benches' shared server environment and database)

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TARGETS = {"load_seconds": 600, "delta_seconds": 30, "lost": 0, "duplicated": 0, "errors": 0}
CENTRES = ("north", "south", "east", "west")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_integration_bench", help="Database to (re)create.")
    parser.add_argument("--members", type=int, default=300_000, help="Members loaded (each way).")
    parser.add_argument("--batch", type=int, default=10_000, help="Members per API request.")
    parser.add_argument("--delta", type=int, default=5_000, help="Members changed in the nightly delta.")
    parser.add_argument("--clients", type=int, default=1, help="API requests in flight at once.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument("--skip-api", action="store_true", help="Only the file import.")
    parser.add_argument("--skip-file", action="store_true", help="Only the API.")
    parser.add_argument("--skip-full-again", action="store_true", help="Not the whole file again after the delta.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment(args, data_dir: Path) -> dict:
    return {
        **door_bench.server_environment(args, data_dir),
        "JUSTFACE_ENV_FILE": "",
        "JUSTFACE_INTEGRATION_RATE": "100000/min",  # the bench measures the write, not the rate limit
    }


def manage(env: dict, *command: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *command], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def member(prefix: str, n: int, *, night: int = 0) -> dict:
    """The n-th synthetic member as the membership system sends it; `night` > 0: the delta's change."""
    row = {
        "external_id": f"{prefix}{n:07d}",
        "first_name": ("Anne", "Bo", "Carl", "Dorte", "Emil", "Freja")[n % 6],
        "last_name": f"Benchsen{n}",
        "birth_date": f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "gender": ("female", "male", "other", "unspecified")[n % 4],
        "email": f"member{n}@{prefix.lower()}.example",
        "phone": f"+45 {20000000 + n}",
        "address": f"Benchvej {n % 200 + 1}, {1000 + n % 8000} By",
        "home_centre": CENTRES[n % len(CENTRES)],
        "membership_type": ("Standard", "Student", "Senior")[n % 3],
        "status": "active",
        "start_date": f"{2015 + n % 10}-{1 + n % 12:02d}-01",
    }
    if night:
        row["phone"] = f"+45 {40000000 + 10000000 * night + n}"
        row["membership_type"] = "Premium"
        if n % 10 == 0:
            row["status"] = "ended"
            row["end_date"] = "2026-11-30"
    return row


def delta_numbers(members: int, delta: int) -> list[int]:
    step = max(1, members // delta)
    return list(range(0, members, step))[:delta]


def seed(prefixes: list[str], *, with_keys: bool) -> dict[str, str]:
    """One chain per prefix with its centres; an integration key for each (members:write)."""
    from members.models import Centre, Chain

    raw_keys = {}
    for prefix in prefixes:
        chain = Chain.objects.create(
            name=f"Bench {prefix}", slug=prefix.lower(), organisation_number="DK12345678", country="DK",
            dpo_email="dpo@bench.example",
        )  # fmt: skip
        for slug in CENTRES:
            Centre.objects.create(chain=chain, name=slug.title(), slug=slug)
        if with_keys:
            from integration import keys

            _key, raw_keys[prefix] = keys.issue_key(chain=chain, scopes=["members:write"], label="bench", actor=None)
    return raw_keys


def database_check(prefix: str, numbers: range | list[int]) -> dict:
    """What the database holds of the chain: lost and duplicated members, by number hash."""
    from members.models import Member, member_number_hash

    members = Member.objects.filter(chain__slug=prefix.lower())
    held = members.count()
    distinct = members.values("member_number_hash").distinct().count()
    expected = {member_number_hash(f"{prefix}{n:07d}") for n in numbers}
    present = set(members.values_list("member_number_hash", flat=True))
    return {
        "held": held,
        "lost": len(expected - present),
        "duplicated": held - distinct,
        "unexpected": len(present - expected),
    }


def delta_check(prefix: str, numbers: list[int]) -> int:
    """Changed members whose stored (decrypted) phone, type or status is not the delta's."""
    from members.models import Member, member_number_hash

    want = {member_number_hash(f"{prefix}{n:07d}"): member(prefix, n, night=1) for n in numbers}
    wrong = 0
    for m in Member.objects.filter(chain__slug=prefix.lower(), member_number_hash__in=list(want)).iterator(2000):
        row = want[m.member_number_hash]
        if (m.phone, m.membership_type, m.status) != (row["phone"], row["membership_type"], row["status"]):
            wrong += 1
    return wrong + len(want) - Member.objects.filter(member_number_hash__in=list(want)).count()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def post_batch(session: requests.Session, url: str, key: str, rows: list[dict]) -> tuple[dict, float, int]:
    """One bulk request, sent again with the same Idempotency-Key if the network fails."""
    idempotency = str(uuid.uuid4())
    body = json.dumps({"members": rows}).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Idempotency-Key": idempotency}
    started, retries = time.perf_counter(), 0
    while True:
        try:
            response = session.post(url, data=body, headers=headers, timeout=300)
            if response.status_code >= 500 and retries < 3:
                raise requests.ConnectionError(f"{response.status_code}")
            if response.status_code != 200:
                sys.exit(f"POST members/bulk answered {response.status_code}: {response.text[:300]}")
            return response.json(), time.perf_counter() - started, retries
        except requests.ConnectionError:
            retries += 1
            if retries > 3:
                raise
            time.sleep(1)


def api_run(base: str, key: str, batches: list[list[dict]], clients: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    url = f"{base}/api/v1/integration/members/bulk"
    counts = dict.fromkeys(("created", "updated", "unchanged", "error"), 0)
    latencies, retries = [], 0
    sessions = [requests.Session() for _ in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(post_batch, sessions[i % clients], url, key, b) for i, b in enumerate(batches)]
        for done, future in enumerate(futures, start=1):
            answer, seconds, retried = future.result()
            for name, n in answer["counts"].items():
                counts[name] += n
            latencies.append(seconds)
            retries += retried
            if done % 5 == 0 or done == len(batches):
                log(f"  {done}/{len(batches)} batches, {time.perf_counter() - started:.0f} s")
    wall = time.perf_counter() - started
    rows = sum(len(b) for b in batches)
    return {
        "rows": rows,
        "batches": len(batches),
        "seconds": round(wall, 1),
        "rows_per_s": round(rows / wall),
        "batch_p50_s": round(statistics.median(latencies), 2),
        "batch_p95_s": round(percentile(latencies, 0.95), 2),
        "batch_max_s": round(max(latencies), 2),
        "retries": retries,
        **counts,
    }


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            sys.exit("gunicorn exited; run with DJANGO_LOG_LEVEL=INFO to see why.")
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    sys.exit("gunicorn did not answer within 60 s.")


def api_phase(args, env: dict, key: str) -> dict:
    prefix = "API"
    base = f"http://127.0.0.1:{args.port}"
    cpu = children_cpu()
    server = subprocess.Popen(
        [str(Path(PYTHON).with_name("gunicorn")), "config.wsgi", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", "2", "--worker-class", "gthread", "--timeout", "300",
         "--no-control-socket", "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(base, server)
        numbers = range(args.members)
        batches = [[member(prefix, n) for n in numbers[i : i + args.batch]] for i in range(0, args.members, args.batch)]
        log(f"API: {args.members} members in {len(batches)} batches of {args.batch}, {args.clients} client(s)")
        load = api_run(base, key, batches, args.clients)
        load.update(database_check(prefix, numbers))
        changed = delta_numbers(args.members, args.delta)
        log(f"API: nightly delta of {len(changed)} members")
        delta = api_run(base, key, [[member(prefix, n, night=1) for n in changed]], 1)
        delta["wrong_values"] = delta_check(prefix, changed)
        delta.update(database_check(prefix, numbers))
    finally:
        server.send_signal(signal.SIGTERM)  # the master only: it stops its workers
        server.wait(timeout=60)
    # gunicorn's master and workers, both phases together (the web side of the API's work).
    load["server_cpu_seconds_with_delta"] = round(children_cpu() - cpu, 1)
    return {"api_load": load, "api_delta": delta}


COUNTS = re.compile(r"(\d+) rows: (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) errors")


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the command; gunicorn once stopped):
    on a shared machine the wall time depends on the neighbours, the CPU time much less."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_file(env: dict, path: Path, chain: str) -> dict:
    started, cpu = time.perf_counter(), children_cpu()
    out = manage(env, "import_members", str(path), "--chain", chain)
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu
    found = COUNTS.search(out)
    if not found:
        sys.exit(f"import_members said: {out[:500]}")
    rows, created, updated, unchanged, errors = (int(g) for g in found.groups())
    return {
        "rows": rows, "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "rows_per_s": round(rows / wall),
        "created": created,
        "updated": updated, "unchanged": unchanged, "error": errors,
    }  # fmt: skip


def write_csv(path: Path, rows) -> None:
    columns = ["external_id", "first_name", "last_name", "birth_date", "gender", "email", "phone", "address",
               "home_centre", "membership_type", "status", "start_date", "end_date"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({"end_date": "", **row})


def file_phase(args, env: dict, folder: Path) -> dict:
    prefix = "FILE"
    numbers = range(args.members)
    changed = delta_numbers(args.members, args.delta)
    full, delta_file, nightly = folder / "members.csv", folder / "delta.csv", folder / "nightly.csv"
    write_csv(full, (member(prefix, n) for n in numbers))
    write_csv(delta_file, (member(prefix, n, night=1) for n in changed))
    log(f"File: import_members of {args.members} members ({full.stat().st_size // 2**20} MB CSV)")
    load = import_file(env, full, prefix.lower())
    load.update(database_check(prefix, numbers))
    log(f"File: delta of {len(changed)} members")
    delta = import_file(env, delta_file, prefix.lower())
    delta["wrong_values"] = delta_check(prefix, changed)
    if args.skip_full_again:
        return {"file_load": load, "file_delta": delta}
    # The whole export again, with the night's changes in it: all unchanged but the delta's rows.
    again = set(changed)
    write_csv(nightly, (member(prefix, n, night=2 if n in again else 0) for n in numbers))
    log(f"File: the whole file of {args.members} again, {len(changed)} of them changed")
    nightly_run = import_file(env, nightly, prefix.lower())
    nightly_run.update(database_check(prefix, numbers))
    return {"file_load": load, "file_delta": delta, "file_nightly_full": nightly_run}


def verdict(result: dict) -> dict:
    checks = {}
    for name in ("api_load", "file_load"):
        if name in result:
            r = result[name]
            checks[f"{name}_within_{TARGETS['load_seconds']}s"] = r["seconds"] <= TARGETS["load_seconds"]
            checks[f"{name}_nothing_lost_or_doubled"] = r["lost"] == 0 and r["duplicated"] == 0 and r["error"] == 0
    for name in ("api_delta", "file_delta"):
        if name in result:
            r = result[name]
            checks[f"{name}_within_{TARGETS['delta_seconds']}s"] = r["seconds"] <= TARGETS["delta_seconds"]
            checks[f"{name}_all_updated"] = r["updated"] == r["rows"] and r["wrong_values"] == 0
    return checks


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="integration-bench-"))
    env = environment(args, data_dir)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    log(f"Database {args.database}: recreating and migrating")
    door_bench.recreate_database(args)
    manage(env, "migrate", "--noinput")
    import django

    django.setup()
    raw_keys = seed(["API", "FILE"], with_keys=not args.skip_api)
    result: dict = {"members": args.members, "batch": args.batch, "delta": args.delta, "cpus": os.cpu_count(),
                    "load_average_at_start": [round(x, 1) for x in os.getloadavg()]}  # fmt: skip
    try:
        if not args.skip_api:
            result.update(api_phase(args, env, raw_keys["API"]))
        if not args.skip_file:
            result.update(file_phase(args, env, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    # This VM's two cores are shared: the load average says how much else ran beside the bench.
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["targets"] = TARGETS
    result["checks"] = verdict(result)
    if args.json:
        print(json.dumps(result))
        return
    keys = ["rows", "seconds", "rows_per_s", "created", "updated", "unchanged", "error", "lost", "duplicated"]
    print(f"{'':20}" + "".join(f"{k:>12}" for k in keys))
    for name in ("api_load", "api_delta", "file_load", "file_delta", "file_nightly_full"):
        if name in result:
            print(f"{name:20}" + "".join(f"{result[name].get(k, ''):>12}" for k in keys))
    for check, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}")


if __name__ == "__main__":
    main()

"""Door latency and throughput, end to end, as in production.

Starts gunicorn (DEBUG off) on a fresh PostgreSQL database, enrolls real faces from the dev set
plus a gallery of synthetic templates, then drives the door API like tablets do: POST a frame,
poll while pending, stop the clock at the final decision. Two runs: 1 tablet, then N tablets at
once. Afterwards it checks that every decision returned has its access event in the database.

    .venv/bin/python bench/door_bench.py                  # a table
    .venv/bin/python bench/door_bench.py --json           # {"single": {...}, "concurrent": {...}}

Metrics (docs/operations.md): `--metrics on` (the default, as in production: the workers' files in
a multi-process folder, /metrics scraped every 5 s during the runs, as Prometheus would, only more
often), `--metrics off` (JUSTFACE_METRICS=0), or `--metrics both --repeat N`: gunicorn restarted
for each, off and on N times (off, on, on, off, ...: a steady drift weighs on both alike) on
the same seeded database, each run's p95 reported.
`--scrape-log FILE` keeps every scrape (JSON lines) for bench/render_dashboard.py.

Needs PostgreSQL (DATABASE_URL's server; the database named by --database is dropped and
created), the face model (installed if missing) and the labelled photos (JUSTFACE_FACE_DATA,
default ../shared/faces/dev).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_door_bench", help="Database to (re)create for the run.")
    parser.add_argument("--synthetic", type=int, default=10_000, help="Synthetic templates in the gallery.")
    parser.add_argument("--tablets", type=int, default=8, help="Concurrent tablets in the second run.")
    parser.add_argument(
        "--fresh-connections", action="store_true", help="A new connection for every scan (see FRESH_CONNECTIONS)."
    )
    parser.add_argument("--seconds", type=float, default=60, help="Length of each run.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker.")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="FACE_TORCH_THREADS: inference threads per worker, for either backend.",
    )
    parser.add_argument("--backend", choices=["onnxruntime", "torch"], default="onnxruntime", help="FACE_BACKEND.")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    parser.add_argument("--metrics", choices=["on", "off", "both"], default="on", help="Prometheus metrics.")
    parser.add_argument("--repeat", type=int, default=1, help="With --metrics both: off/on pairs to run.")
    parser.add_argument("--scrape-every", type=float, default=5.0, help="Seconds between scrapes of /metrics.")
    parser.add_argument("--scrape-log", type=Path, help="Append every scrape of /metrics here (JSON lines).")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def faces_dir() -> Path:
    folder = Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev"))
    if not folder.is_dir():
        sys.exit(f"Face photos not found at {folder}: set JUSTFACE_FACE_DATA.")
    return folder


def environment(args, data_dir: Path) -> dict:
    return {
        **server_environment(args, data_dir),
        "FACE_TORCH_THREADS": str(args.torch_threads),
        "FACE_BACKEND": args.backend,
    }


def server_environment(args, data_dir: Path) -> dict:
    """A production-like server on loopback with throw-away keys (the benches share it)."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"{args.server}/{args.database}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "JUSTFACE_DATA_DIR": str(data_dir),
    }


def recreate_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def manage(env: dict, *command: str) -> None:
    result = subprocess.run([PYTHON, "manage.py", *command], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")


def door_frame(photo: bytes) -> bytes:
    """The photo as the kiosk would send it: a 640x480 JPEG with the face filling the height."""
    from PIL import Image

    face = Image.open(io.BytesIO(photo)).convert("RGB")
    face = face.resize((480 * face.width // face.height, 480))
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(face, ((640 - face.width) // 2, 0))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def seed(args) -> tuple[list[str], list[bytes]]:
    """Chain, centre, one door and token per tablet, enrolled real faces, synthetic gallery.
    Returns the tablets' tokens and the probe frames (other photos of the enrolled people, and
    photos of people who are not members)."""
    import django

    django.setup()
    import hashlib

    import numpy as np
    from django.utils import timezone

    from access.models import Door
    from access.services import issue_device_token
    from consent.enrollment import enroll_face
    from consent.models import ConsentDocument, ConsentRecord
    from justface.face_runtime import get_engine
    from members.gallery import bump_version, encode_template
    from members.models import Centre, Chain, FaceTemplate, Member

    chain = Chain.objects.create(
        name="Bench Fitness",
        slug="bench",
        organisation_number="DK00000000",
        country="DK",
        default_language="da",
        dpo_email="dpo@bench.example",
    )
    # No hours: always open. The passive liveness check runs on every frame (its cost is part of the
    # door's); a bench cannot turn its head, so no challenge is asked.
    centre = Centre.objects.create(chain=chain, name="Bench Centre", slug="bench", liveness="passive")
    tokens = [
        issue_device_token(door=Door.objects.create(centre=centre, name=f"Door {n}"), actor=None)[1]
        for n in range(max(args.tablets, 1))
    ]
    body = "Face scan consent (bench)."
    document = ConsentDocument.objects.create(
        chain=chain,
        kind="biometric",
        language="en",
        version=1,
        title="Face scan",
        body=body,
        published_at=timezone.now(),
    )

    people = sorted(p for p in faces_dir().iterdir() if p.is_dir())
    members, strangers = people[:-3], people[-3:]
    probes: list[bytes] = []
    for n, person in enumerate(members):
        photos = sorted(person.iterdir())
        member = Member.objects.create(
            chain=chain,
            home_centre=centre,
            member_number=f"R{n:05d}",
            first_name=person.name.split("_")[0],
            last_name="Bench",
        )
        ConsentRecord.objects.create(
            member=member, document=document, action="sign", text_sha256=hashlib.sha256(body.encode()).hexdigest()
        )
        if not enroll_face(member=member, image=photos[0].read_bytes(), actor=None).ok:
            log(f"  {person.name}: enrollment photo refused, skipped")
            continue
        probes += [door_frame(p.read_bytes()) for p in photos[1:]]
    probes += [door_frame(p.read_bytes()) for person in strangers for p in sorted(person.iterdir())]

    rng = np.random.default_rng(7)
    synthetic = []
    for start in range(0, args.synthetic, 2000):
        batch = [
            Member(chain=chain, home_centre=centre, member_number=f"S{i:06d}", first_name="Synthetic", last_name=f"{i}")
            for i in range(start, min(start + 2000, args.synthetic))
        ]
        for member in batch:
            member.refresh_lookup_hashes()
        synthetic += Member.objects.bulk_create(batch)
    engine = get_engine()  # synthetic templates of the active model, or the door would not search them
    vectors = rng.standard_normal((len(synthetic), engine.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    FaceTemplate.objects.bulk_create(
        [
            FaceTemplate(member=m, template=encode_template(v), model_name=engine.model)
            for m, v in zip(synthetic, vectors)
        ],
        batch_size=2000,
    )
    bump_version(chain.pk)
    log(f"  {FaceTemplate.objects.count()} templates ({len(members)} real people), {len(probes)} probe frames")
    return tokens, probes


# A tablet's kept-alive connection stays with the gunicorn worker that accepted it, and a worker
# decides one scan at a time: two tablets whose connections landed on one worker take turns, and
# the 2-tablet figure is then half (seen: 9.8 or 16.8-21 decisions/s in runs alike). With
# --fresh-connections every scan connects anew and lands on whichever worker is free.
FRESH_CONNECTIONS = False


class Tablet(threading.Thread):
    """POST a frame, poll while pending; the latency is until the final decision."""

    def __init__(self, base: str, token: str, frames: list[bytes], offset: int, until: float, timeout: float = 30):
        super().__init__(daemon=True)
        self.base, self.frames, self.offset, self.until, self.timeout = base, frames, offset, until, timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Device {token}"
        if FRESH_CONNECTIONS:
            self.session.headers["Connection"] = "close"
        self.latencies: list[float] = []
        self.scan_ids: list[str] = []
        self.errors = 0

    def run(self) -> None:
        n = self.offset
        while time.monotonic() < self.until:
            frame = self.frames[n % len(self.frames)]
            n += 1
            started = time.perf_counter()
            try:
                response = self.session.post(
                    f"{self.base}/api/v1/door/scans/",
                    files={"image": ("f.jpg", frame, "image/jpeg")},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                    timeout=self.timeout,
                )
                body = response.json()
                while response.status_code == 202 or body.get("status") == "pending":
                    response = self.session.get(
                        f"{self.base}/api/v1/door/scans/{body['id']}/", params={"wait": 5}, timeout=self.timeout
                    )
                    body = response.json()
            except (requests.RequestException, ValueError):
                self.errors += 1
                continue
            if response.status_code != 200 or body.get("reason") == "unavailable":
                self.errors += 1
                continue
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.scan_ids.append(body["id"])


def run_phase(base: str, tokens: list[str], probes: list[bytes], tablets: int, seconds: float) -> dict:
    from access.models import AccessEvent

    until = time.monotonic() + seconds
    started = time.perf_counter()
    # The warm-up may run more tablets than there are doors: they then share tokens.
    threads = [Tablet(base, tokens[i % len(tokens)], probes, i * 7, until) for i in range(tablets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for t in threads for ms in t.latencies)
    ids = [i for t in threads for i in t.scan_ids]
    events = AccessEvent.objects.filter(scan_id__in=ids).count()
    if not latencies:  # nothing decided (a machine too busy to answer within the timeout)
        latencies = [float("nan")]
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {
        "tablets": tablets,
        "decisions": len(latencies),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "decisions_per_s": round(len(latencies) / elapsed, 2),
        "errors": sum(t.errors for t in threads),
        "events_lost": len(ids) - events,
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


class Scraper(threading.Thread):
    """Reads /metrics every few seconds while the tablets run, as Prometheus would."""

    def __init__(self, base: str, every: float, log_file: Path | None):
        super().__init__(daemon=True)
        self.base, self.every, self.log_file = base, every, log_file
        self.stop = threading.Event()
        self.scrapes, self.failures = 0, 0

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                response = requests.get(f"{self.base}/metrics", timeout=10)
                response.raise_for_status()
            except requests.RequestException:
                self.failures += 1
                continue
            self.scrapes += 1
            if self.log_file is not None:
                with self.log_file.open("a") as out:
                    out.write(json.dumps({"t": time.time(), "text": response.text}) + "\n")


def serve_and_measure(args, env: dict, tokens: list[str], probes: list[bytes], metrics: bool) -> dict:
    """One gunicorn (metrics on or off), warmed up, then the 1-tablet and N-tablet runs."""
    base = f"http://127.0.0.1:{args.port}"
    metrics_dir = Path(tempfile.mkdtemp(prefix="door-bench-metrics-"))
    run_env = {**env, "JUSTFACE_METRICS": "1" if metrics else "0"}
    if metrics:
        run_env["JUSTFACE_METRICS_DIR"] = str(metrics_dir)
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "120",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=run_env,
        stdout=subprocess.DEVNULL,
    )
    scraper = Scraper(base, args.scrape_every, args.scrape_log) if metrics else None
    try:
        wait_until_up(base, server)
        log(
            f"gunicorn: {args.workers} workers x {args.threads} threads, {args.backend} on {args.torch_threads} "
            f"thread(s) per worker, metrics {'on' if metrics else 'off'}; warming up"
        )
        # Every worker loads the model and the gallery (the first server after seeding also writes the
        # node's snapshot): warm up until the door answers, so no run pays for that.
        for _ in range(12):
            if run_phase(base, tokens, probes, args.workers * args.threads, 10)["decisions"] >= args.workers:
                break
        if scraper is not None:
            scraper.start()
        log(f"1 tablet for {args.seconds:.0f} s")
        single = run_phase(base, tokens, probes, 1, args.seconds)
        log(f"{args.tablets} tablets for {args.seconds:.0f} s")
        concurrent = run_phase(base, tokens, probes, args.tablets, args.seconds)
    finally:
        if scraper is not None:
            scraper.stop.set()
        server.send_signal(signal.SIGTERM)  # the master only: it stops its workers
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    result = {"metrics": "on" if metrics else "off", "single": single, "concurrent": concurrent}
    if scraper is not None:
        result["scrapes"], result["scrape_failures"] = scraper.scrapes, scraper.failures
    return result


def main() -> None:
    args = parse_args()
    global FRESH_CONNECTIONS
    FRESH_CONNECTIONS = args.fresh_connections
    data_dir = Path(tempfile.mkdtemp(prefix="door-bench-"))
    shared_models = REPO / "var" / "models"
    if shared_models.is_dir():
        (data_dir / "models").symlink_to(shared_models)  # reuse the converted model
    env = environment(args, data_dir)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    log(f"Database {args.database}: recreating and migrating")
    recreate_database(args)
    manage(env, "migrate", "--noinput")
    manage(env, "install_face_model")
    log(f"Seeding: real faces and {args.synthetic} synthetic templates")
    tokens, probes = seed(args)
    # off, on, on, off, ...: a machine that slows (or speeds up) steadily during the runs then
    # weighs on both settings alike instead of on the second of each pair.
    pairs = [[False, True] if i % 2 == 0 else [True, False] for i in range(args.repeat)]
    modes = {"on": [True], "off": [False], "both": [m for pair in pairs for m in pair]}[args.metrics]
    try:
        runs = [serve_and_measure(args, env, tokens, probes, metrics) for metrics in modes]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    result = runs[0] if len(runs) == 1 else {"runs": runs, "summary": summary(runs)}
    if args.json:
        print(json.dumps(result))
        return
    keys = ["tablets", "decisions", "p50_ms", "p95_ms", "p99_ms", "decisions_per_s", "errors", "events_lost"]
    print(f"{'':16}" + "".join(f"{k:>16}" for k in keys))
    for run in runs:
        for name in ("single", "concurrent"):
            print(f"{name + ' ' + run['metrics']:16}" + "".join(f"{run[name][k]:>16}" for k in keys))
    if len(runs) > 1:
        print(json.dumps(result["summary"], indent=2))


def summary(runs: list[dict]) -> dict:
    """Per phase: every run's p95 with metrics off and on, their ranges, and the ratio of the medians."""
    out = {}
    for phase in ("single", "concurrent"):
        p95 = {m: [r[phase]["p95_ms"] for r in runs if r["metrics"] == m] for m in ("off", "on")}
        if not p95["off"] or not p95["on"]:
            continue
        off, on = statistics.median(p95["off"]), statistics.median(p95["on"])
        out[phase] = {
            "p95_off_ms": p95["off"],
            "p95_on_ms": p95["on"],
            "range_off_ms": [min(p95["off"]), max(p95["off"])],
            "range_on_ms": [min(p95["on"]), max(p95["on"])],
            "median_on_over_off": round(on / off, 3),
        }
    return out


if __name__ == "__main__":
    main()

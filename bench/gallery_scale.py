"""Galleries of 10k / 100k / 300k members (three templates each): memory per node, the cost of
one change in a process, and the 1:N search time.

For each size it seeds a synthetic chain on a fresh PostgreSQL database (templates encrypted as
in production), then starts a *node*: two worker processes like gunicorn's, each with Django and
the face engine loaded (one real photo analysed, so the model's memory counts) and the chain's
gallery loaded through members.gallery (the first builds the machine's snapshot, the second maps
it). It reads the node's memory as the sum of both processes' PSS (shared pages counted once),
then times, in one worker:

* sync: one member's templates change (written by this process, as another node would), and the
  worker's next ``gallery_for`` brings its gallery up to date; median over ``--changes`` changes;
* search: ``LayeredGallery.search`` of random probes (p95 over ``--searches``), and the whole
  ``identify`` (version check + search + decision).

It also reports how far half precision moves real SFace scores (dev photos, every pair).

    .venv/bin/python bench/gallery_scale.py                      # a table
    .venv/bin/python bench/gallery_scale.py --json --sizes 10000 # {"10000": {...}}

Needs PostgreSQL (the database named by --database is dropped and created), the face model and
the dev photos (JUSTFACE_FACE_DATA). 300k members take ~10 minutes to seed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TEMPLATES_PER_MEMBER = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,300000", help="Members per gallery, comma-separated.")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_gallery_bench", help="Database to (re)create for the run.")
    parser.add_argument("--changes", type=int, default=30, help="Changes timed per size.")
    parser.add_argument("--searches", type=int, default=300, help="Searches timed per size.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chain", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def environment(args, data_dir: str, gallery_dir: str, keys: dict) -> dict:
    return {
        **os.environ,
        **keys,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"{args.server}/{args.database}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "JUSTFACE_DATA_DIR": data_dir,
        "JUSTFACE_GALLERY_DIR": gallery_dir,
        "JUSTFACE_FACE_MODEL_PREVIOUS": "",
        "FACE_BACKEND": "onnxruntime",
        "FACE_TORCH_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def pss_mb(pid: int) -> float:
    """Proportional set size: a page shared by k processes counts 1/k in each."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for {pid}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def dev_photos(people: int = 1, each: int = 1) -> list[Path]:
    folder = Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev"))
    if not folder.is_dir():
        sys.exit(f"Face photos not found at {folder}: set JUSTFACE_FACE_DATA.")
    return [
        photo
        for person in sorted(p for p in folder.iterdir() if p.is_dir())[:people]
        for photo in sorted(person.iterdir())[:each]
    ]


# --- the worker: one gunicorn-like process of the node ---------------------------------------


def worker(args) -> None:
    import django

    django.setup()
    import numpy as np
    from django.db import connection

    from justface.face_runtime import get_engine
    from members.gallery import gallery_for, identify

    engine = get_engine()
    assert engine.analyse_enrollment(dev_photos()[0].read_bytes()).ok  # the model's arenas are allocated
    started = time.perf_counter()
    gallery = gallery_for(args.chain)
    reply({"ready": True, "load_s": time.perf_counter() - started, "templates": len(gallery)})
    rng = np.random.default_rng(os.getpid())
    for line in sys.stdin:
        command = line.split()
        if command[0] == "sync":
            in_database = []

            def timed(execute, sql, params, many, context):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    in_database.append(time.perf_counter() - started)

            started = time.perf_counter()
            with connection.execute_wrapper(timed):
                gallery_for(args.chain)
            reply({"ms": (time.perf_counter() - started) * 1e3, "db_ms": sum(in_database) * 1e3})
        elif command[0] == "search":
            view = gallery_for(args.chain)
            probes = rng.standard_normal((int(command[1]), engine.dim)).astype(np.float32)
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            search, whole = [], []
            for probe in probes:
                started = time.perf_counter()
                view.search(probe)
                search.append((time.perf_counter() - started) * 1e3)
                started = time.perf_counter()
                identify(chain_id=args.chain, template=probe)
                whole.append((time.perf_counter() - started) * 1e3)
            reply({"search": search, "identify": whole})
        elif command[0] == "quit":
            return


def reply(message: dict) -> None:
    print(json.dumps(message), flush=True)


# --- the bench --------------------------------------------------------------------------------


def seed(chain, members: int, already: int, rng) -> None:
    """Members ``already`` .. ``members`` of the chain, three clustered templates each."""
    import numpy as np
    from tqdm import tqdm

    from justface.face_runtime import get_engine
    from members.gallery import bump_version, encode_template
    from members.models import FaceTemplate, Member

    dim, model = get_engine().dim, get_engine().model
    centre = chain.centres.first()
    with tqdm(total=members - already, desc=f"seeding to {members:,} members", unit="member", file=sys.stderr) as bar:
        for start in range(already, members, 5000):
            batch = [
                Member(
                    chain=chain, home_centre=centre, member_number=f"S{i:07d}", first_name="Synthetic", last_name=f"{i}"
                )
                for i in range(start, min(start + 5000, members))
            ]
            for member in batch:
                member.refresh_lookup_hashes()
            batch = Member.objects.bulk_create(batch)
            centres = rng.standard_normal((len(batch), 1, dim)).astype(np.float32)
            vectors = centres + 0.6 * rng.standard_normal((len(batch), TEMPLATES_PER_MEMBER, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
            FaceTemplate.objects.bulk_create(
                [
                    FaceTemplate(member=m, template=encode_template(v), model_name=model)
                    for m, rows in zip(batch, vectors)
                    for v in rows
                ],
                batch_size=5000,
            )
            bar.update(len(batch))
    bump_version(chain.pk)  # a bulk load: every process reads the chain whole
    from django.db import connection

    with connection.cursor() as cursor:  # as after any bulk import: fresh statistics, or the planner guesses
        cursor.execute("ANALYZE members_member, members_facetemplate")


class Worker:
    def __init__(self, args, env: dict, chain_id: int):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--chain", str(chain_id)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self.read()

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"a gallery worker died (exit {self.process.wait()}); run it alone to see why")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        try:
            self.ask("quit")
        except (BrokenPipeError, SystemExit):
            pass
        self.process.wait(timeout=30)


def measure_size(args, env: dict, chain, members: int) -> dict:
    import numpy as np

    from justface.face_runtime import get_engine
    from members.faces import store_face_template
    from members.models import Member

    first = Worker(args, env, chain.pk)  # builds the machine's snapshot
    second = Worker(args, env, chain.pk)  # maps it
    for w in (first, second):
        w.ask("search 20")  # every page of the snapshot is touched in both, as after a few door scans
    node = {
        "pss_mb": [pss_mb(w.process.pid) for w in (first, second)],
        "rss_mb": [rss_mb(w.process.pid) for w in (first, second)],
    }
    snapshot_mb = sum(p.stat().st_size for p in Path(env["JUSTFACE_GALLERY_DIR"]).rglob("*") if p.is_file()) / 2**20

    rng = np.random.default_rng(members)
    engine = get_engine()
    ids = list(Member.objects.filter(chain=chain).values_list("pk", flat=True)[:5000])
    sync, sync_db = [], []
    for _ in range(args.changes):
        member = Member.objects.get(pk=int(rng.choice(ids)))
        vector = rng.standard_normal(engine.dim).astype(np.float32)
        store_face_template(
            member=member, template=vector / np.linalg.norm(vector), model_name=engine.model, photo=None, actor=None
        )
        answer = first.ask("sync")
        sync.append(answer["ms"])
        sync_db.append(answer["db_ms"])
    timings = first.ask(f"search {args.searches}")
    second.ask("sync")
    for w in (first, second):
        w.stop()
    search, whole = sorted(timings["search"]), sorted(timings["identify"])
    return {
        "members": members,
        "templates": first.ready["templates"],
        "node_rss_mb": round(sum(node["pss_mb"]), 1),
        "process_rss_mb": [round(x, 1) for x in node["rss_mb"]],
        "snapshot_mb": round(snapshot_mb, 1),
        "float32_per_process_mb": round(first.ready["templates"] * engine.dim * 4 / 2**20, 1),
        "load_s": {"first": round(first.ready["load_s"], 2), "second": round(second.ready["load_s"], 2)},
        "sync_ms_per_change": round(statistics.median(sync), 2),
        "sync_ms_max": round(max(sync), 2),
        "sync_ms_in_database": round(statistics.median(sync_db), 2),
        "search_p50_ms": round(search[len(search) // 2], 2),
        "search_p95_ms": round(search[int(len(search) * 0.95)], 2),
        "identify_p95_ms": round(whole[int(len(whole) * 0.95)], 2),
    }


def half_precision_error() -> dict:
    """How far fp16 storage moves SFace scores: every pair of a few hundred dev photos."""
    import numpy as np

    from justface.face_runtime import get_engine

    engine = get_engine()
    rows = [r.template for r in (engine.analyse_enrollment(p.read_bytes()) for p in dev_photos(60, 4)) if r.ok]
    exact = np.asarray(rows, np.float32)
    half = exact.astype(np.float16).astype(np.float32)
    upper = np.triu_indices(len(exact), 1)
    error = np.abs((exact @ exact.T)[upper] - (half @ exact.T)[upper])
    return {
        "templates": len(exact),
        "pairs": int(len(error)),
        "max_score_error": float(error.max()),
        "p999_score_error": float(np.quantile(error, 0.999)),
    }


def measure(sizes: list[int]) -> dict[str, dict]:
    """{"<members>": {...}} for each size, as bench/topology_bench.py prints: run in a process of
    its own (it sets up Django on its own database)."""
    done = subprocess.run(
        [sys.executable, __file__, "--json", "--sizes", ",".join(map(str, sizes))],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    if done.returncode:
        sys.exit(f"bench/gallery_scale.py failed (exit {done.returncode})")
    return json.loads(done.stdout)


def run(args: argparse.Namespace) -> dict[str, dict]:
    import psycopg
    from cryptography.fernet import Fernet

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    keys = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
    }
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="justface-gallery-bench-") as tmp:
        env = environment(args, f"{tmp}/data", f"{tmp}/galleries", keys)
        os.environ.update(env)
        for command in (["install_face_model"], ["migrate", "--noinput"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=REPO, env=env, capture_output=True, text=True
            )
            if done.returncode:
                sys.exit(f"manage.py {command[0]} failed:\n{done.stderr[-2000:]}")
        import django

        django.setup()
        import numpy as np

        from members.models import Centre, Chain

        chain = Chain.objects.create(
            name="Gallery Bench",
            slug="gallery-bench",
            organisation_number="DK00000000",
            country="DK",
            dpo_email="dpo@bench.example",
        )
        Centre.objects.create(chain=chain, name="Bench Centre", slug="bench")
        rng, seeded = np.random.default_rng(13), 0
        for members in sorted(args.sizes):
            seed(chain, members, seeded, rng)
            seeded = members
            for old in Path(env["JUSTFACE_GALLERY_DIR"]).rglob("*"):
                if old.is_file():
                    old.unlink()  # each size starts a new node
            log(f"measuring {members:,} members")
            results[str(members)] = measure_size(args, env, chain, members)
        results["half_precision"] = half_precision_error()
    return results


def main() -> None:
    args = parse_args()
    if args.worker:
        return worker(args)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{'members':>9} {'templates':>10} {'node MB':>8} {'snapshot MB':>11} {'fp32/proc MB':>12} "
        f"{'sync ms':>8} {'search p50':>10} {'search p95':>10} {'identify p95':>12}"
    )
    for key, r in results.items():
        if key.isdigit():
            print(
                f"{r['members']:>9,} {r['templates']:>10,} {r['node_rss_mb']:>8} {r['snapshot_mb']:>11} "
                f"{r['float32_per_process_mb']:>12} {r['sync_ms_per_change']:>8} {r['search_p50_ms']:>10} "
                f"{r['search_p95_ms']:>10} {r['identify_p95_ms']:>12}"
            )
    h = results["half_precision"]
    print(
        f"half precision: max score change {h['max_score_error']:.5f} over {h['pairs']:,} pairs of real SFace templates"
    )


if __name__ == "__main__":
    main()

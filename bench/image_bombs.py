"""Memory of the web workers under image bombs on every image endpoint.

Starts the real app as README's production command does (gunicorn with deploy/gunicorn.conf.py:
2 workers x 4 threads) on a fresh PostgreSQL database seeded by door_bench's helpers, plus a
member who may enroll (member API token, portal session) and a manager at the front desk. Then,
endpoint by endpoint, 8 clients at once each send the same image, and a sampler reads every
worker's resident memory (VmRSS, and PSS from smaps_rollup) every 20 ms:

* bombs (refused from the header, before any pixel is decoded): a single-colour PNG of
  7000x7000 pixels (~160 KB), a JPEG whose header declares 30000x30000 pixels, a challenge
  answer of 10 single-colour 4096x4096 PNGs (a few KB each);
* at the limits (accepted and decoded, the real worst case): a single-colour RGBA PNG of
  4096x4096 (the largest image accepted: its decoding is the costliest), a 4096x4096 JPEG, and a
  challenge answer of 10 frames of 1280x1280 (16.4 Mpx, within the request budget, all decoded).

Endpoints: the door's scan, the challenge answer, the member API's enrollment, the portal's face
page, the front desk's photo. It prints each worker's memory before, its peak growth per round and
overall, and its growth once everything is over (after a 3 s pause).

    .venv/bin/python bench/image_bombs.py             # a table
    .venv/bin/python bench/image_bombs.py --json      # one JSON object

Needs PostgreSQL, the face model and the labelled photos (as bench/door_bench.py).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import secrets
import shutil
import struct
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import door_bench  # noqa: E402  (database, seeding, start-up helpers)
import slow_clients  # noqa: E402  (gunicorn as README's production command, and its stop)

REPO = door_bench.REPO
log = door_bench.log
MB = 1024 * 1024


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_image_bench", help="Database to (re)create for the run.")
    parser.add_argument("--parallel", type=int, default=8, help="Clients sending the same image at once.")
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument(
        "--glibc-default",
        action="store_true",
        help="Leave glibc's malloc as it is (JUSTFACE_MALLOC_TUNING=0), to see what deploy/gunicorn.conf.py changes.",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    args = parser.parse_args()
    args.workers, args.threads, args.torch_threads, args.backend = 2, 4, 1, "onnxruntime"  # README's command
    args.tablets, args.synthetic = 2, 200
    return args


# --- the images ---------------------------------------------------------------------------------


def _encode(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) declares width x height pixels."""
    from PIL import Image

    data = bytearray(_encode(Image.new("RGB", (64, 48), (90, 120, 150)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def images() -> dict[str, bytes]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the bench makes the bombs
    made = {
        "png_7000": _encode(Image.new("RGB", (7000, 7000), (200, 30, 30)), "PNG"),
        "jpeg_30000": jpeg_declaring(30000, 30000),
        "png_4096": _encode(Image.new("RGB", (4096, 4096), (30, 200, 30)), "PNG"),
        "png_4096_rgba": _encode(Image.new("RGBA", (4096, 4096), (30, 30, 200, 255)), "PNG"),
        "jpeg_4096": _encode(Image.new("RGB", (4096, 4096), (60, 60, 60)), "JPEG", quality=90),
        "png_1280": _encode(Image.new("RGB", (1280, 1280), (90, 90, 90)), "PNG"),
    }
    for name, data in made.items():
        log(f"  {name}: {len(data) / 1024:.0f} KB")
    return made


def real_photos() -> tuple[bytes, bytes]:
    """A 12 Mpx phone selfie (4032x3024 JPEG) and a 1280x720 door frame, of a real face: the
    largest ordinary images, so the workers' baseline holds what the engine keeps for them."""
    from PIL import Image

    person = sorted(p for p in door_bench.faces_dir().iterdir() if p.is_dir())[0]
    face = Image.open(sorted(person.iterdir())[0]).convert("RGB")
    selfie = Image.new("RGB", (4032, 3024), (128, 128, 128))
    selfie.paste(face.resize((3024, 3024), Image.BICUBIC), (504, 0))
    frame = Image.new("RGB", (1280, 720), (128, 128, 128))
    frame.paste(face.resize((720, 720), Image.BICUBIC), (280, 0))
    return _encode(selfie, "JPEG", quality=90), _encode(frame, "JPEG", quality=90)


# --- the people and their credentials ----------------------------------------------------------


def seed_people() -> dict:
    """A member who signed the biometric consent (API token, portal session) and a manager of the
    chain (a session for the desk), with the CSRF cookie a browser would hold."""
    import hashlib

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from rest_framework.authtoken.models import Token

    from consent.models import ConsentDocument, ConsentRecord
    from justface.models import User
    from justface.tenancy import Role
    from members.models import Centre, Member, StaffRole
    from members.services import login_username

    centre = Centre.objects.get(slug="bench")
    member = Member.objects.create(
        chain=centre.chain, home_centre=centre, member_number="IB0001", first_name="Bomb", last_name="Tester"
    )
    member.user = User.objects.create_user(username=login_username(member), password=secrets.token_urlsafe(16))
    member.save(update_fields=["user"])
    document = ConsentDocument.objects.get(chain=centre.chain, kind="biometric")
    ConsentRecord.objects.create(
        member=member, document=document, action="sign", text_sha256=hashlib.sha256(document.body.encode()).hexdigest()
    )
    manager = User.objects.create_user(username="bench-manager", password=secrets.token_urlsafe(16), is_staff=True)
    StaffRole.objects.create(user=manager, chain=centre.chain, role=Role.MANAGER)
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore

    def session(user) -> str:
        s = store()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.save()
        return s.session_key

    return {
        "member_id": member.pk,
        "token": Token.objects.create(user=member.user).key,
        "member_session": session(member.user),
        "manager_session": session(manager),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


# --- the endpoints ----------------------------------------------------------------------------


class Client:
    def __init__(self, base: str, door_token: str, people: dict):
        self.base, self.door_token, self.people = base, door_token, people
        self.csrf = secrets.token_hex(16)  # 32 characters: Django takes an unmasked secret

    def _page(self, session_key: str) -> requests.Session:
        s = requests.Session()
        s.cookies.set(self.people["session_cookie"], session_key)
        s.cookies.set(self.people["csrf_cookie"], self.csrf)
        return s

    def door_scan(self, data: bytes, content_type: str) -> int:
        return requests.post(
            f"{self.base}/api/v1/door/scans/",
            files={"image": ("f", data, content_type)},
            headers={"Authorization": f"Device {self.door_token}"},
            timeout=120,
        ).status_code

    def challenge(self, frames: list[tuple[bytes, str]]) -> int:
        auth = {"Authorization": f"Device {self.door_token}"}
        scan = requests.post(
            f"{self.base}/api/v1/door/pin/", json={"member_number": "NOBODY", "pin": "0000"}, headers=auth, timeout=60
        ).json()["id"]
        return requests.post(
            f"{self.base}/api/v1/door/scans/{scan}/challenge/",
            data={"nonce": "x" * 32},
            files=[("frames", (f"f{n}", body, ct)) for n, (body, ct) in enumerate(frames)],
            headers=auth,
            timeout=120,
        ).status_code

    def member_api(self, data: bytes, content_type: str) -> int:
        return requests.post(
            f"{self.base}/api/v1/me/face/",
            files={"image": ("selfie", data, content_type)},
            headers={"Authorization": f"Token {self.people['token']}"},
            timeout=120,
        ).status_code

    def portal(self, data: bytes, content_type: str) -> int:
        return (
            self._page(self.people["member_session"])
            .post(
                f"{self.base}/me/face/",
                data={"csrfmiddlewaretoken": self.csrf},
                files={"photo": ("selfie", data, content_type)},
                timeout=120,
            )
            .status_code
        )

    def desk(self, data: bytes, content_type: str) -> int:
        return (
            self._page(self.people["manager_session"])
            .post(
                f"{self.base}/staff/front-desk/members/{self.people['member_id']}/",
                data={"csrfmiddlewaretoken": self.csrf, "action": "photo"},
                files={"photo": ("selfie", data, content_type)},
                timeout=120,
            )
            .status_code
        )


# --- memory -------------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    try:
        return sorted(int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split())
    except OSError:
        return []


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


class Sampler(threading.Thread):
    """Every worker's peak RSS and PSS since the last reset, read every 20 ms."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.stop = pids, threading.Event()
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.peak = {pid: memory(pid) for pid in self.pids}

    def run(self) -> None:
        while not self.stop.wait(0.02):
            for pid in self.pids:
                try:
                    rss, pss = memory(pid)
                except OSError:
                    continue
                with self.lock:
                    old = self.peak[pid]
                    self.peak[pid] = (max(old[0], rss), max(old[1], pss))


def settle() -> None:
    time.sleep(3)


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="image-bombs-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    shared_models = REPO / "var" / "models"
    if shared_models.is_dir():
        (data_dir / "models").symlink_to(shared_models)  # reuse the converted model
    env = door_bench.environment(args, data_dir)
    if args.glibc_default:
        env["JUSTFACE_MALLOC_TUNING"] = "0"
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    server = None
    try:
        log(f"Database {args.database}: recreating and migrating")
        door_bench.recreate_database(args)
        door_bench.manage(env, "migrate", "--noinput")
        door_bench.manage(env, "install_face_model")
        door_bench.manage(env, "collectstatic", "--noinput")  # the pages need the manifest (DEBUG off)
        log("Seeding")
        tokens, probes = door_bench.seed(args)
        people = seed_people()
        log("Images")
        made = images()
        server = slow_clients.start_gunicorn(env, args)
        base = f"http://127.0.0.1:{args.port}"
        door_bench.wait_until_up(base, server)
        pids = worker_pids(server.pid)
        client = Client(base, tokens[0], people)
        log(f"gunicorn workers {pids}: warming up with real faces, as a day's traffic would")
        selfie, frame = real_photos()
        with ThreadPoolExecutor(args.parallel) as pool:
            for _ in range(3):
                list(pool.map(lambda f: client.door_scan(f, "image/jpeg"), probes[: args.parallel * 2]))
                list(pool.map(lambda _: client.door_scan(frame, "image/jpeg"), range(args.parallel)))
                list(pool.map(lambda _: client.member_api(selfie, "image/jpeg"), range(args.parallel)))
                list(pool.map(lambda _: client.challenge([(probes[0], "image/jpeg")] * 8), range(args.parallel)))
        settle()
        before = {pid: memory(pid) for pid in pids}
        sampler = Sampler(pids)
        sampler.start()
        png, jpg = "image/png", "image/jpeg"
        rounds = {
            "bombs": [
                ("door scan: PNG 7000x7000", lambda: client.door_scan(made["png_7000"], png)),
                ("door scan: JPEG declaring 30000x30000", lambda: client.door_scan(made["jpeg_30000"], jpg)),
                ("challenge: 10 x PNG 4096x4096", lambda: client.challenge([(made["png_4096"], png)] * 10)),
                ("challenge: PNG 7000x7000", lambda: client.challenge([(made["png_7000"], png)])),
                ("member API: PNG 7000x7000", lambda: client.member_api(made["png_7000"], png)),
                ("member API: JPEG declaring 30000x30000", lambda: client.member_api(made["jpeg_30000"], jpg)),
                ("portal: PNG 7000x7000", lambda: client.portal(made["png_7000"], png)),
                ("portal: JPEG declaring 30000x30000", lambda: client.portal(made["jpeg_30000"], jpg)),
                ("desk: PNG 7000x7000", lambda: client.desk(made["png_7000"], png)),
                ("desk: JPEG declaring 30000x30000", lambda: client.desk(made["jpeg_30000"], jpg)),
            ],
            "at_the_limits": [
                ("door scan: PNG 4096x4096", lambda: client.door_scan(made["png_4096"], png)),
                ("door scan: JPEG 4096x4096", lambda: client.door_scan(made["jpeg_4096"], jpg)),
                ("challenge: 10 x PNG 1280x1280", lambda: client.challenge([(made["png_1280"], png)] * 10)),
                ("member API: PNG RGBA 4096x4096", lambda: client.member_api(made["png_4096_rgba"], png)),
                ("member API: JPEG 4096x4096", lambda: client.member_api(made["jpeg_4096"], jpg)),
                ("portal: PNG RGBA 4096x4096", lambda: client.portal(made["png_4096_rgba"], png)),
                ("desk: PNG RGBA 4096x4096", lambda: client.desk(made["png_4096_rgba"], png)),
            ],
        }
        result: dict = {
            "workers": len(pids),
            "parallel": args.parallel,
            "malloc_tuning": not args.glibc_default,
            "before_mb": {},
            "rounds": {},
        }
        result["before_mb"] = {str(pid): {"rss": round(r, 1), "pss": round(p, 1)} for pid, (r, p) in before.items()}
        overall = dict.fromkeys(pids, 0.0)
        with ThreadPoolExecutor(args.parallel) as pool:
            for group, cases in rounds.items():
                for name, send in cases:
                    sampler.reset()
                    started = time.perf_counter()
                    statuses = list(pool.map(lambda _: send(), range(args.parallel)))
                    growth = {pid: sampler.peak[pid][0] - before[pid][0] for pid in pids}
                    for pid in pids:
                        overall[pid] = max(overall[pid], growth[pid])
                    result["rounds"].setdefault(group, []).append(
                        {
                            "case": name,
                            "statuses": sorted(set(statuses)),
                            "seconds": round(time.perf_counter() - started, 2),
                            "peak_growth_mb": round(max(growth.values()), 1),
                        }
                    )
                    log(f"  {name}: {sorted(set(statuses))}, peak growth {max(growth.values()):.0f} MB")
        sampler.stop.set()
        settle()
        after = {pid: memory(pid) for pid in pids}
        result["peak_growth_mb"] = round(max(overall.values()), 1)
        result["after_growth_mb"] = round(max(after[pid][0] - before[pid][0] for pid in pids), 1)
        result["after_pss_growth_mb"] = round(max(after[pid][1] - before[pid][1] for pid in pids), 1)
    finally:
        slow_clients.stop(server, "gunicorn")
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    for group, rows in result["rounds"].items():
        print(f"{group}: {args.parallel} clients at once, per endpoint")
        for row in rows:
            print(f"  {row['case']:42} {str(row['statuses']):12} peak growth {row['peak_growth_mb']:6.1f} MB")
    print(f"RSS before (MB): {', '.join(str(v['rss']) for v in result['before_mb'].values())}")
    print(f"largest growth of a worker at any peak: {result['peak_growth_mb']} MB")
    print(f"growth after (3 s later): RSS {result['after_growth_mb']} MB, PSS {result['after_pss_growth_mb']} MB")


if __name__ == "__main__":
    main()

"""Slow clients against the door, with and without nginx in front of gunicorn.

Starts gunicorn as README's production command says (2 workers x 4 threads, gthread), on a fresh
PostgreSQL database seeded by door_bench's helpers, once alone and once behind nginx with the
repository's own settings (deploy/nginx/proxy.conf and zones.conf in a generated config: loopback
ports, a temporary prefix, a foreground process). In each layout: tablets scan real faces and one
more sends heartbeats, first undisturbed ("calm"), then while slow clients each open a door API
request with `Content-Length: 1000` and send one byte every 3 s ("attack"). It reports the
tablets' p50/p95 latency and errors (a request not answered within --timeout, or not 200).

    .venv/bin/python bench/slow_clients.py             # a table
    .venv/bin/python bench/slow_clients.py --json      # {"gunicorn": {...}, "nginx": {...}}

Traffic goes to loopback addresses only: the tablets from 127.0.1.x, the slow clients from
127.0.0.2 (so nginx's per-address limits tell them apart, as they would tell a centre's tablets
from an attacker). Every loop ends with its phase; the bench stops everything it started.
Needs nginx (apt-get install nginx-light; `make nginx`), PostgreSQL, the face model and photos.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import door_bench  # noqa: E402  (its database, seeding, tablets and start-up helpers)

REPO = door_bench.REPO
NGINX_DIR = REPO / "deploy" / "nginx"
ATTACKER = "127.0.0.2"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_slow_bench", help="Database to (re)create for the run.")
    parser.add_argument("--synthetic", type=int, default=1000, help="Synthetic templates in the gallery.")
    parser.add_argument("--tablets", type=int, default=3, help="Tablets scanning faces (one more sends heartbeats).")
    parser.add_argument("--slow", type=int, default=24, help="Slow clients in the attack phase.")
    parser.add_argument("--calm", type=float, default=15, help="Seconds of the undisturbed phase.")
    parser.add_argument("--attack", type=float, default=30, help="Seconds of the phase with slow clients.")
    parser.add_argument("--timeout", type=float, default=10, help="A tablet gives up on a request after this.")
    parser.add_argument("--port", type=int, default=8793, help="gunicorn's port; nginx listens on the next one.")
    parser.add_argument("--layouts", default="gunicorn,nginx", help="Which layouts to run, comma-separated.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    args = parser.parse_args()
    args.workers, args.threads, args.torch_threads, args.backend = 2, 4, 1, "onnxruntime"  # README's command
    return args


log = door_bench.log


class SourceAddress(HTTPAdapter):
    """requests from a given loopback address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


class Heartbeats(threading.Thread):
    """A tablet's heartbeat, once a second (the kiosk sends one a minute: this one measures)."""

    def __init__(self, base: str, token: str, until: float, timeout: float, address: str):
        super().__init__(daemon=True)
        self.base, self.until, self.timeout = base, until, timeout
        self.session = requests.Session()
        self.session.mount("http://", SourceAddress(address))
        self.session.headers["Authorization"] = f"Device {token}"
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        while time.monotonic() < self.until:
            started = time.perf_counter()
            try:
                ok = self.session.post(
                    f"{self.base}/api/v1/door/heartbeat/", json={"camera": "ok"}, timeout=self.timeout
                ).ok
            except requests.RequestException:
                ok = False
            if ok:
                self.latencies.append((time.perf_counter() - started) * 1000)
            else:
                self.errors += 1
            time.sleep(max(0.0, 1 - (time.perf_counter() - started)))


class SlowClient(threading.Thread):
    """Opens a door API request that promises 1000 bytes of body and sends one every 3 s; when the
    server hangs up, opens another (an attacker would)."""

    def __init__(self, port: int, token: str, until: float, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.token, self.until, self.stop = port, token, until, stop
        self.connections = self.closed_by_server = 0

    def run(self) -> None:
        head = (
            f"POST /api/v1/door/heartbeat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Device {self.token}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        ).encode()
        while time.monotonic() < self.until and not self.stop.is_set():
            try:
                with socket.create_connection(
                    ("127.0.0.1", self.port), timeout=5, source_address=(ATTACKER, 0)
                ) as sock:
                    self.connections += 1
                    sock.sendall(head)
                    sock.settimeout(0.01)
                    while time.monotonic() < self.until and not self.stop.wait(3):
                        sock.sendall(b"a")
                        try:
                            if sock.recv(4096) == b"":
                                break  # closed: try again
                        except TimeoutError:
                            pass
                        except OSError:
                            break
                    else:
                        continue
                    self.closed_by_server += 1
            except OSError:
                self.closed_by_server += 1
                self.stop.wait(0.5)


def phase(base: str, port: int, tokens: list[str], probes: list[bytes], args, slow: int, seconds: float) -> dict:
    until = time.monotonic() + seconds
    stop = threading.Event()
    attackers = [SlowClient(port, tokens[-1], until, stop) for _ in range(slow)]
    for attacker in attackers:
        attacker.start()
    if slow:
        time.sleep(1)  # the slow clients are in before the tablets measure
    tablets = [
        door_bench.Tablet(base, tokens[i], probes, i * 7, until, timeout=args.timeout) for i in range(args.tablets)
    ]
    for i, tablet in enumerate(tablets):
        tablet.session.mount("http://", SourceAddress(f"127.0.1.{i + 1}"))
    heartbeats = Heartbeats(base, tokens[args.tablets], until, args.timeout, f"127.0.1.{args.tablets + 1}")
    for thread in [*tablets, heartbeats]:
        thread.start()
    for thread in [*tablets, heartbeats]:
        thread.join()
    stop.set()
    for attacker in attackers:
        attacker.join(timeout=10)
    scans = sorted(ms for t in tablets for ms in t.latencies)
    return {
        "slow_clients": slow,
        "seconds": seconds,
        "scans": len(scans),
        "scan_p50_ms": _quantile(scans, 50),
        "scan_p95_ms": _quantile(scans, 95),
        "scan_errors": sum(t.errors for t in tablets),
        "heartbeats": len(heartbeats.latencies),
        "heartbeat_p50_ms": _quantile(sorted(heartbeats.latencies), 50),
        "heartbeat_p95_ms": _quantile(sorted(heartbeats.latencies), 95),
        "heartbeat_errors": heartbeats.errors,
        "slow_connections": sum(a.connections for a in attackers),
        "slow_closed_by_server": sum(a.closed_by_server for a in attackers),
    }


def _quantile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def nginx_config(prefix: Path, listen: int, upstream: int) -> Path:
    """The repository's proxy settings on loopback ports, with every path under `prefix`."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / sub).chmod(0o777)  # nginx's workers drop root: they write request bodies here
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {NGINX_DIR}/zones.conf;
    upstream justface {{ server 127.0.0.1:{upstream}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{listen};
        include {NGINX_DIR}/proxy.conf;
    }}
}}
""")
    return conf


def start_nginx(prefix: Path, listen: int, upstream: int) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx not found: apt-get install nginx-light (or `make nginx`).")
    conf = nginx_config(prefix, listen, upstream)
    check = subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if check.returncode:
        sys.exit(f"nginx refused the configuration:\n{check.stderr}")
    return subprocess.Popen(
        [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_gunicorn(env: dict, args) -> subprocess.Popen:
    """README's production command, on a loopback port."""
    return subprocess.Popen(
        [
            str(Path(door_bench.PYTHON).with_name("gunicorn")),
            "config.wsgi",
            "-c",
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--graceful-timeout",
            "5",
            "--log-level",
            "error",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM if name == "gunicorn" else signal.SIGQUIT)  # the master only
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        log(f"  {name} did not stop within 20 s: killed")
        process.kill()
        process.wait(timeout=10)


def run_layout(layout: str, env: dict, args, tokens, probes, workdir: Path) -> dict:
    server = proxy = None
    try:
        server = start_gunicorn(env, args)
        door_bench.wait_until_up(f"http://127.0.0.1:{args.port}", server)
        port = args.port
        if layout == "nginx":
            port = args.port + 1
            proxy = start_nginx(workdir / "nginx", port, args.port)
            door_bench.wait_until_up(f"http://127.0.0.1:{port}", proxy)
        base = f"http://127.0.0.1:{port}"
        log(f"{layout}: warming up")
        door_bench.run_phase(base, tokens, probes, 8, 8)  # every worker loads the model and gallery
        log(f"{layout}: {args.calm:.0f} s calm")
        calm = phase(base, port, tokens, probes, args, 0, args.calm)
        log(f"{layout}: {args.attack:.0f} s with {args.slow} slow clients")
        attack = phase(base, port, tokens, probes, args, args.slow, args.attack)
        return {"calm": calm, "attack": attack}
    finally:
        stop(proxy, "nginx")
        stop(server, "gunicorn")


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    shared_models = REPO / "var" / "models"
    if shared_models.is_dir():
        (data_dir / "models").symlink_to(shared_models)  # reuse the converted model
    env = {**door_bench.environment(args, data_dir), "JUSTFACE_TRUSTED_PROXIES": "127.0.0.1"}
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    try:
        log(f"Database {args.database}: recreating and migrating")
        door_bench.recreate_database(args)
        door_bench.manage(env, "migrate", "--noinput")
        door_bench.manage(env, "install_face_model")
        log(f"Seeding: real faces and {args.synthetic} synthetic templates")
        tablets = args.tablets
        args.tablets = tablets + 2  # a door each for the tablets, the heartbeat tablet and the slow clients
        tokens, probes = door_bench.seed(args)
        args.tablets = tablets
        result = {layout: run_layout(layout, env, args, tokens, probes, workdir) for layout in args.layouts.split(",")}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    keys = [
        "slow_clients",
        "scans",
        "scan_p50_ms",
        "scan_p95_ms",
        "scan_errors",
        "heartbeats",
        "heartbeat_p50_ms",
        "heartbeat_p95_ms",
        "heartbeat_errors",
    ]
    print(f"{'':18}" + "".join(f"{k:>17}" for k in keys))
    for layout, phases in result.items():
        for name, row in phases.items():
            print(f"{layout + ' ' + name:18}" + "".join(f"{str(row[k]):>17}" for k in keys))


if __name__ == "__main__":
    main()

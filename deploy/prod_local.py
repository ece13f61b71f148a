"""The production topology on one machine (`make prod-local`; docs/operations.md).

nginx (Debian's) terminates TLS with a self-signed certificate, buffers requests and balances over
two web nodes: two gunicorn masters on two ports, as if on two machines, each with
deploy/gunicorn.conf.py. PostgreSQL is DATABASE_URL's; Redis (127.0.0.1:6379 unless CACHE_URL and
JUSTFACE_Q_BROKER_URL say otherwise) is the cache, the limiter's store and django-q2's broker; two
django-q2 clusters run the background work. The nginx configuration is generated from the
repository's own site file (deploy/nginx/justface.conf: only its node addresses, ports and
certificate paths are replaced). Migrations, the face model and the static files are prepared
once, before anything starts. Ctrl-C stops everything.

    .venv/bin/python deploy/prod_local.py [--demo] [--https-port 8443] [--node-ports 8001,8002]

Everything it writes goes under var/prod-local/ (git-ignored): the certificate, the generated
nginx files, the settings file with this installation's keys (made once, kept: the database's
encrypted columns need them), the data folder and the logs. Run it as root (nginx's workers then
drop to an unprivileged user: its temporary folders are made writable for them).

bench/topology_bench.py and tests/justface/test_deploy.py import this module (and prod_local_site): the bench kills and
restarts nodes and clusters through `Topology`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from prod_local_site import (  # deploy/ is on the path: this script's own folder
    GUNICORN_CONF,
    HOST,
    REPO,
    VENV_BIN,
    Layout,
    ensure_certificate,
    environment,
    nginx_binary,
    nginx_test,
    prepare,
    write_nginx_config,
)

# --- processes ---------------------------------------------------------------------------------


@dataclass
class Service:
    """One supervised process, in a process group of its own: `kill` takes the whole group (a
    gunicorn master and its workers, a cluster and its workers), `stop` asks the main process only,
    as systemd's KillMode=mixed does (qcluster hangs when SIGTERM reaches its whole group)."""

    name: str
    argv: list[str]
    env: dict
    stop_signal: int = signal.SIGTERM
    log_file: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)
    _pump: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log_file, "ab")
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            out.close()
        else:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._pump = threading.Thread(target=self._prefix_output, daemon=True)
            self._pump.start()

    def _prefix_output(self) -> None:
        for line in self.process.stdout:
            sys.stdout.write(f"{self.name:>10} | {line.decode(errors='replace')}")
            sys.stdout.flush()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: a crash, not a stop (nothing gets to clean up). Returns once
        every process of the group has exited (their sockets are closed then)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            wait_until(lambda: not _group_alive(self.process.pid), 10, f"{self.name}'s processes did not exit")

    def stop(self, timeout: float = 40) -> None:
        if not self.running:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything of the group left behind
        except ProcessLookupError:
            pass


class Topology:
    """nginx, the web nodes and the background clusters of one Layout."""

    def __init__(self, layout: Layout, env: dict, *, log_to_files: bool = False):
        self.layout, self.env = layout, env
        logs = layout.logs if log_to_files else None
        # Each node its own gallery folder, as on two machines (each keeps one shared copy per machine).
        self.nodes = [
            Service(
                f"node{n + 1}",
                [str(VENV_BIN / "gunicorn"), "config.wsgi", "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}"],
                {"JUSTFACE_GALLERY_DIR": str(layout.root / f"galleries-node{n + 1}"), **env},
                log_file=logs / f"node{n + 1}.log" if logs else None,
            )
            for n, port in enumerate(layout.node_ports)
        ]
        self.clusters = [
            Service(
                f"qcluster{n + 1}",
                [sys.executable, "manage.py", "qcluster"],
                env,
                log_file=logs / f"qcluster{n + 1}.log" if logs else None,
            )
            for n in range(layout.clusters)
        ]
        self.nginx_conf = write_nginx_config(layout)
        self.nginx = Service(
            "nginx",
            [
                nginx_binary(),
                "-p",
                str(layout.nginx_dir),
                "-e",
                str(layout.nginx_dir / "error.log"),
                "-c",
                str(self.nginx_conf),
                "-g",
                "daemon off;",
            ],
            env,
            stop_signal=signal.SIGQUIT,
            log_file=logs / "nginx.log" if logs else None,
        )

    @property
    def services(self) -> list[Service]:
        return [*self.nodes, *self.clusters, self.nginx]

    def node_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.layout.node_ports[n]}"

    def start(self, *, timeout: float = 120) -> None:
        busy = [
            port
            for port in (self.layout.https_port, self.layout.http_port, *self.layout.node_ports)
            if port_in_use(port)
        ]
        if busy:
            # Another topology (a second prod-local, a bench) answering our health checks would
            # pass for this one, and stopping "ours" would stop theirs.
            raise RuntimeError(
                f"port(s) {', '.join(map(str, busy))} already in use on 127.0.0.1: is another "
                "prod-local or topology bench running?"
            )
        checked = nginx_test(self.layout, self.nginx_conf)
        if checked.returncode:
            raise RuntimeError(f"nginx refused the generated configuration:\n{checked.stderr}")
        for service in self.services:
            service.start()
        for n in range(len(self.nodes)):
            self.wait_for_node(n, timeout=timeout)
        wait_until(
            lambda: _get(f"{self.layout.base_url}/healthz", verify=str(self.layout.certificate)),
            timeout,
            "nginx did not answer",
            self.nginx,
        )

    def wait_for_node(self, n: int, *, timeout: float = 120) -> None:
        wait_until(lambda: _get(f"{self.node_url(n)}/healthz"), timeout, f"node{n + 1} did not answer", self.nodes[n])

    def stop(self) -> None:
        for service in [self.nginx, *self.nodes, *self.clusters]:
            service.stop()

    def first_exited(self) -> Service | None:
        return next((s for s in self.services if not s.running), None)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (zombies, already without their sockets, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def _get(url: str, verify: str | bool = True) -> bool:
    import requests

    try:
        # A node is asked as nginx asks it: the site's host name, and the scheme nginx saw.
        return requests.get(url, timeout=2, verify=verify, headers={"Host": HOST, "X-Forwarded-Proto": "https"}).ok
    except requests.RequestException:
        return False


def wait_until(ready, timeout: float, message: str, service: Service | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and service.process is not None and service.process.poll() is not None:
            raise RuntimeError(f"{message}: {service.name} exited with {service.process.returncode}")
        if ready():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{message} within {timeout:.0f} s")


# --- make prod-local ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--node-ports", default="8001,8002", help="One port per web node, comma-separated.")
    parser.add_argument("--clusters", type=int, default=2, help="django-q2 clusters.")
    parser.add_argument("--demo", action="store_true", help="Load the demo chain and logins (manage.py seed_demo).")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layout = Layout(
        https_port=args.https_port,
        http_port=args.http_port,
        node_ports=tuple(int(p) for p in args.node_ports.split(",")),
        clusters=args.clusters,
    )
    env = environment(layout)
    if not env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        sys.exit("prod-local: the production topology runs on PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_certificate(layout)
    prepare(env, demo=args.demo, log=lambda m: print(f"prod-local: {m}", flush=True))
    topology = Topology(layout, env)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        topology.start()
        print(
            f"prod-local: {layout.base_url}/ (certificate: {layout.certificate}); nodes "
            f"{', '.join(topology.node_url(n) for n in range(len(topology.nodes)))}; {len(topology.clusters)} "
            "clusters. Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping.wait(1):
            if (gone := topology.first_exited()) is not None:
                # As honcho does: one process down takes the rest down, loudly.
                print(f"prod-local: {gone.name} exited ({gone.process.returncode}); stopping everything.", flush=True)
                return 1
        return 0
    finally:
        print("prod-local: stopping", flush=True)
        topology.stop()


if __name__ == "__main__":
    sys.exit(main())

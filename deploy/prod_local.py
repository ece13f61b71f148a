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

bench/topology_bench.py and tests/justface/test_deploy.py import this module: the bench kills and
restarts nodes and clusters through `Topology`.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SITE_FILE = DEPLOY / "nginx" / "justface.conf"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
VENV_BIN = Path(sys.executable).parent
HOST = "localhost"


@dataclass
class Layout:
    """Where everything of one local topology lives and listens."""

    root: Path = REPO / "var" / "prod-local"
    https_port: int = 8443
    http_port: int = 8080
    node_ports: tuple[int, ...] = (8001, 8002)
    clusters: int = 2

    @property
    def certificate(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def private_key(self) -> Path:
        return self.root / "tls" / "key.pem"

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def env_file(self) -> Path:
        return self.root / "justface.env"

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.https_port}"


# --- TLS ---------------------------------------------------------------------------------------


def ensure_certificate(layout: Layout) -> None:
    """A self-signed certificate for localhost and 127.0.0.1 (made once; a client verifies it by
    passing the file as its trust anchor)."""
    if layout.certificate.exists() and layout.private_key.exists():
        return
    layout.certificate.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "365",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
            "-keyout",
            str(layout.private_key),
            "-out",
            str(layout.certificate),
        ],
        check=True,
        capture_output=True,
    )
    layout.private_key.chmod(0o600)


# --- nginx -------------------------------------------------------------------------------------


class SiteFileChanged(RuntimeError):
    """The site file no longer has a line this generator replaces: fix one or the other."""


def _replace(text: str, pattern: str, replacement, count: int) -> str:
    new, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if found != count:
        raise SiteFileChanged(f"{SITE_FILE.name}: expected {count} line(s) matching {pattern!r}, found {found}")
    return new


def nginx_site(layout: Layout) -> str:
    """deploy/nginx/justface.conf with this machine's addresses: the nodes on loopback ports, nginx
    on loopback ports, the generated certificate, the repository's included files. Everything else
    (TLS, buffering, limits, the upstream's health and keep-alive settings) is the file's own."""
    site = SITE_FILE.read_text()
    site = _replace(site, r"^(\s*include )/etc/nginx/justface/", lambda m: f"{m.group(1)}{DEPLOY / 'nginx'}/", 2)
    nodes = iter(layout.node_ports)
    upstream = r"^(\s*)server [^\s;]+:\d+((?: [^;]*)?);"
    lines = re.findall(upstream, site, flags=re.MULTILINE)
    if len(lines) != len(layout.node_ports):
        raise SiteFileChanged(
            f"{SITE_FILE.name}: {len(lines)} upstream server line(s) for {len(layout.node_ports)} nodes"
        )
    site = _replace(site, upstream, lambda m: f"{m.group(1)}server 127.0.0.1:{next(nodes)}{m.group(2)};", len(lines))
    site = _replace(site, r"^\s*listen \[::\]:\d+.*\n", "", 2)
    site = _replace(site, r"^(\s*)listen 80;", lambda m: f"{m.group(1)}listen 127.0.0.1:{layout.http_port};", 1)
    site = _replace(site, r"^(\s*)listen 443 ", lambda m: f"{m.group(1)}listen 127.0.0.1:{layout.https_port} ", 1)
    site = _replace(
        site,
        r"^(\s*)return 301 https://\$host\$request_uri;",
        lambda m: f"{m.group(1)}return 301 https://$host:{layout.https_port}$request_uri;",
        1,
    )
    site = _replace(
        site, r"^(\s*)server_name gym\.example\.com;", lambda m: f"{m.group(1)}server_name {HOST} 127.0.0.1;", 2
    )
    site = _replace(
        site, r"^(\s*)ssl_certificate\s+\S+;", lambda m: f"{m.group(1)}ssl_certificate     {layout.certificate};", 1
    )
    site = _replace(
        site, r"^(\s*)ssl_certificate_key\s+\S+;", lambda m: f"{m.group(1)}ssl_certificate_key {layout.private_key};", 1
    )
    return site


def write_nginx_config(layout: Layout) -> Path:
    """The main configuration (Debian's nginx.conf is not used: its paths are the system's) with the
    generated site in its http block; every path under layout.nginx_dir."""
    prefix = layout.nginx_dir
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / sub).chmod(0o777)  # nginx's workers drop root: they buffer request bodies here
    (prefix / "site.conf").write_text(nginx_site(layout))
    conf = prefix / "nginx.conf"
    conf.write_text(f"""# Generated by deploy/prod_local.py from {SITE_FILE.relative_to(REPO)}; do not edit.
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
""")
    return conf


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise FileNotFoundError("nginx not found: apt-get install nginx-light (or `make nginx`).")
    return nginx


def nginx_test(layout: Layout, conf: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on the generated configuration."""
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(layout.nginx_dir), "-e", str(layout.nginx_dir / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )


# --- settings ----------------------------------------------------------------------------------


def ensure_env_file(layout: Layout) -> Path:
    """This installation's keys, made once and kept (like /etc/justface/justface.env on a server)."""
    if not layout.env_file.exists():
        from cryptography.fernet import Fernet

        layout.env_file.parent.mkdir(parents=True, exist_ok=True)
        layout.env_file.write_text(
            "\n".join(
                [
                    "# Written once by deploy/prod_local.py: the keys of the local production topology. Keep it:",
                    "# the database's encrypted columns and files need FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY.",
                    f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
                    f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}",
                    f"FIELD_HASH_KEY={secrets.token_urlsafe(32)}",
                    "",
                ]
            )
        )
        layout.env_file.chmod(0o600)
    return layout.env_file


def environment(layout: Layout, base: dict | None = None) -> dict:
    """The settings every process of the topology gets: production settings (README's list),
    behind the TLS-terminating proxy on this machine. Variables already set (DATABASE_URL, keys,
    CACHE_URL, ...) win, as they do over a server's env file."""
    base = dict(os.environ if base is None else base)
    defaults = {
        "DJANGO_SETTINGS_MODULE": "justface.settings",
        "JUSTFACE_ENV_FILE": str(ensure_env_file(layout)),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": layout.base_url,
        "JUSTFACE_PUBLIC_URL": layout.base_url,
        "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
        "JUSTFACE_TRUSTED_PROXIES": "127.0.0.1",
        # A browser would remember HSTS for localhost for a year: not for a local trial.
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/justface_prod_local",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "JUSTFACE_Q_BROKER_URL": "redis://127.0.0.1:6379/2",
        "JUSTFACE_DATA_DIR": str(layout.root / "data"),
    }
    return {**defaults, **{k: v for k, v in base.items() if k not in ("DJANGO_SETTINGS_MODULE", "JUSTFACE_ENV_FILE")}}


def ensure_database(url: str) -> None:
    """CREATE DATABASE when DATABASE_URL names one that does not exist yet."""
    import psycopg

    server, name = url.rsplit("/", 1)
    name = name.split("?")[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def data_dir(env: dict) -> Path:
    """The shared data folder (on real machines: a shared mount, docs/operations.md); the converted
    face model of the repository's var/ is reused rather than installed a second time."""
    folder = Path(env["JUSTFACE_DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    shared_models = REPO / "var" / "models"
    if shared_models.is_dir() and not (folder / "models").exists() and folder.resolve() != (REPO / "var").resolve():
        (folder / "models").symlink_to(shared_models)
    return folder


def manage(env: dict, *command: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{(result.stderr or result.stdout)[-3000:]}")
    return result.stdout


def prepare(env: dict, *, demo: bool = False, log=print) -> None:
    """What runs once per release, before the nodes start (docs/operations.md: upgrades): the
    migrations, the face model, the static files."""
    ensure_database(env["DATABASE_URL"])
    data_dir(env)
    for command in (["migrate", "--noinput"], ["install_face_model"], ["collectstatic", "--noinput"]):
        log(" ".join(command))
        manage(env, *command)
    if demo:
        log(manage(env, "seed_demo").strip())


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
                [str(VENV_BIN / "gunicorn"), "justface.wsgi", "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}"],
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

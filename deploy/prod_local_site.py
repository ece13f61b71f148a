"""What `make prod-local` prepares before anything starts (deploy/prod_local.py runs it): where
the topology lives (Layout), its TLS certificate, the nginx configuration generated from the
repository's site file, the settings file with this installation's keys, and the database,
migrations, face model and static files."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
        "DJANGO_SETTINGS_MODULE": "config.settings",
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

"""A database that refuses connections, or accepts and never answers: the door and member APIs
answer at once (bounded by the connect timeout) with a JSON 503, `detail` and Retry-After; pages
with a short plain 503; /healthz says 503, /livez still ok (from an outside probe)."""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client, RequestFactory

from justface.errors import response_for_exception
from tests.justface.test_settings import production_env, run_manage

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection options are PostgreSQL's")

CONNECT_TIMEOUT = 2  # libpq's smallest


@contextlib.contextmanager
def database_at(django_db_blocker, port: int):
    """Points the default connection at 127.0.0.1:port for the block (no transaction is open:
    these tests take no `db` fixture), then back."""
    default = connections["default"]
    saved = copy.deepcopy(default.settings_dict)
    with django_db_blocker.unblock():
        default.close()
        default.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
        default.settings_dict["OPTIONS"] = {**saved.get("OPTIONS", {}), "connect_timeout": CONNECT_TIMEOUT}
        try:
            yield
        finally:
            default.close()
            default.settings_dict.clear()
            default.settings_dict.update(saved)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        server.close()


def assert_unavailable_everywhere() -> None:
    client = Client(raise_request_exception=False)
    device = {"HTTP_AUTHORIZATION": "Device some-token"}
    answers = {
        "heartbeat": client.post("/api/v1/door/heartbeat/", {}, content_type="application/json", **device),
        "pin": client.post(
            "/api/v1/door/pin/", {"member_number": "M1", "pin": "4711"}, content_type="application/json", **device
        ),
        "poll": client.get("/api/v1/door/scans/00000000-0000-0000-0000-000000000000/", **device),
        "token": client.post(
            "/api/v1/me/token/", {"email": "a@example.com", "password": "x"}, content_type="application/json"
        ),
        "profile": client.get("/api/v1/me/profile/", HTTP_AUTHORIZATION="Token abc"),
    }
    for name, response in answers.items():
        assert response.status_code == 503, (name, response.status_code, response.content[:200])
        assert response.json()["detail"] and int(response["Retry-After"]) > 0, name
    client.cookies["sessionid"] = "s" * 32  # a logged-in browser: its session is in the database
    pages = {"/me/": client.get("/me/"), "/admin/members/member/": client.get("/admin/members/member/")}
    for page, response in pages.items():
        assert response.status_code == 503 and response["Content-Type"].startswith("text/plain"), (
            page,
            response.content[:200],
        )
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    assert client.get("/livez").status_code == 200


def test_database_refusing_connections_is_a_503_at_once(django_db_blocker):
    with database_at(django_db_blocker, closed_port()):
        started = time.monotonic()
        assert_unavailable_everywhere()
        assert time.monotonic() - started < 5


def test_database_that_never_answers_is_a_503_after_the_connect_timeout(django_db_blocker):
    with silent_server() as port, database_at(django_db_blocker, port):
        started = time.monotonic()
        client = Client(raise_request_exception=False)
        response = client.post(
            "/api/v1/door/heartbeat/", {}, content_type="application/json", HTTP_AUTHORIZATION="Device some-token"
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 503 and response.json()["detail"] and response["Retry-After"]
        assert elapsed < CONNECT_TIMEOUT * 3, elapsed
        assert client.get("/healthz").status_code == 503


def test_a_statement_over_the_timeout_is_answered_503(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "15s"  # the default, DATABASE_STATEMENT_TIMEOUT_MS=15000
        cursor.execute("SET LOCAL statement_timeout = 20")
        with pytest.raises(OperationalError) as raised:
            cursor.execute("SELECT pg_sleep(2)")
    response = response_for_exception(RequestFactory().get("/api/v1/door/heartbeat/"), raised.value)
    assert response.status_code == 503 and response["Retry-After"]


def test_timeouts_come_from_the_environment():
    show = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    url = "postgres://u@127.0.0.1:5432/x"
    result = run_manage(
        "shell",
        "-c",
        show,
        DATABASE_URL=url,
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_STATEMENT_TIMEOUT_MS="1234",
        **production_env(),
    )
    assert "'connect_timeout': 3" in result.stdout and "statement_timeout=1234" in result.stdout, result.stderr
    result = run_manage("shell", "-c", show, DATABASE_URL=url, **production_env())
    assert "'connect_timeout': 5" in result.stdout and "statement_timeout=15000" in result.stdout, result.stderr
    sqlite = run_manage("shell", "-c", show, DATABASE_URL="sqlite:////tmp/x.sqlite3", **production_env())
    assert "connect_timeout" not in sqlite.stdout and "statement_timeout" not in sqlite.stdout, sqlite.stderr

"""Waking the held long polls of every web process when an open command is queued (PostgreSQL
LISTEN/NOTIFY), so a grant decided in one gunicorn process reaches an agent whose poll another
process holds at once, instead of at that poll's next look at the database (every 0.1 s).

The decision's transaction sends `NOTIFY` (`pg_notify`, delivered only if it commits). Each
process runs one listener thread, only while it holds at least one poll: it keeps one extra
database connection in LISTEN and wakes the process's waiting polls on every notification. The
0.1 s look stays as the fallback (SQLite, a lost listener connection, a notification missed
while it reconnects), so correctness never depends on the notification."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connection, connections

logger = logging.getLogger(__name__)

CHANNEL = "justface_door_commands"
IDLE_CHECK = 0.5  # how often the listener looks whether any poll still waits (seconds)
RETRY = 1.0

_lock = threading.Lock()
_waiting = 0
_thread: threading.Thread | None = None


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def notify() -> None:
    """In the decision's transaction: wake every process's held polls once it commits."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class held:
    """`with held(wake):` around a held poll: the process listens while any poll is held."""

    def __init__(self, wake: Callable[[], None]):
        self.wake = wake

    def __enter__(self):
        global _waiting, _thread
        if not is_postgresql():
            return self
        with _lock:
            _waiting += 1
            if _thread is None or not _thread.is_alive():
                _thread = threading.Thread(target=_listen, args=(self.wake,), name="door-wakeup", daemon=True)
                _thread.start()
        return self

    def __exit__(self, *exc):
        global _waiting
        if is_postgresql():
            with _lock:
                _waiting -= 1
        return False


def _params() -> dict:
    params = connections["default"].get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold", "client_encoding"):
        params.pop(key, None)
    return params


def _listen(wake: Callable[[], None]) -> None:
    """Listen until no poll has waited for IDLE_CHECK; reconnect after an error."""
    global _thread
    import psycopg

    while True:
        try:
            with psycopg.connect(**_params(), autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                wake()  # a command queued while the listener connected is not missed
                while True:
                    for _ in conn.notifies(timeout=IDLE_CHECK, stop_after=1):
                        wake()
                    with _lock:
                        if _waiting <= 0:
                            _thread = None
                            return
        except Exception:
            logger.warning("Door wake-up listener lost its connection; polls fall back to 0.1 s looks", exc_info=True)
            with _lock:
                if _waiting <= 0:
                    _thread = None
                    return
            threading.Event().wait(RETRY)

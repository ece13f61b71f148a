"""The agent's reports waiting to be sent, on disk (``state_dir/reports.sqlite3``), so that a relay
move or a contact change the server has not heard of yet survives a restart of the agent.

Each report gets an id ``<stream>:<seq>`` when it is queued: ``seq`` is SQLite's AUTOINCREMENT key
(never reused, even after deletes), ``stream`` a random 16-hex name made when the file is created.
The server applies each stream's reports in order and skips an id at or below the last it applied,
so a batch sent again (its answer was lost, the agent restarted before removing it) is applied
once. A new file (a new state folder) is a new stream.

Bounded: at most ``maxlen`` reports are kept (the oldest are dropped and counted); only the newest
heartbeat is kept, so a long outage does not push real contact reports out with heartbeats. Each
``put`` is committed (WAL, ``synchronous=FULL``) before it returns."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from pathlib import Path

REPORT_QUEUE_MAX = 1000


class ReportQueue:
    def __init__(self, path: Path | str, maxlen: int = REPORT_QUEUE_MAX):
        self.path = Path(path)
        self.maxlen = maxlen
        self.dropped = 0
        self._cond = threading.Condition()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                "type TEXT NOT NULL, body TEXT NOT NULL)"
            )
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('stream', ?)", (secrets.token_hex(8),))
            (self.stream,) = self._db.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
            self._db.execute("SELECT count(*) FROM reports").fetchone()
        except sqlite3.Error as exc:
            raise RuntimeError(f"report queue {self.path} is unusable ({exc}); fix or remove it") from exc

    def put(self, event: dict) -> None:
        with self._cond:
            with self._db:  # one transaction: the insert and the bound together
                self._db.execute("BEGIN IMMEDIATE")
                if event.get("type") == "heartbeat":
                    self._db.execute("DELETE FROM reports WHERE type = 'heartbeat'")
                self._db.execute(
                    "INSERT INTO reports (type, body) VALUES (?, ?)", (str(event.get("type")), json.dumps(event))
                )
                (count,) = self._db.execute("SELECT count(*) FROM reports").fetchone()
                if count > self.maxlen:
                    over = count - self.maxlen
                    self._db.execute(
                        "DELETE FROM reports WHERE seq IN (SELECT seq FROM reports ORDER BY seq LIMIT ?)", (over,)
                    )
                    self.dropped += over
            self._cond.notify_all()

    def peek(self, n: int) -> list[dict]:
        """The oldest ``n`` reports, each with its ``id``."""
        with self._cond:
            rows = self._db.execute("SELECT seq, body FROM reports ORDER BY seq LIMIT ?", (n,)).fetchall()
        return [{**json.loads(body), "id": f"{self.stream}:{seq}"} for seq, body in rows]

    def remove(self, events: list[dict]) -> None:
        """Forget reports the server has (by their ids); ones already dropped by the bound are no matter."""
        seqs = [int(e["id"].rpartition(":")[2]) for e in events if str(e.get("id", "")).startswith(self.stream + ":")]
        with self._cond:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("DELETE FROM reports WHERE seq = ?", [(s,) for s in seqs])

    def wait(self, timeout: float) -> None:
        with self._cond:
            if not len(self):
                self._cond.wait(timeout)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._db.close()

    def __len__(self) -> int:
        with self._cond:
            return self._db.execute("SELECT count(*) FROM reports").fetchone()[0]

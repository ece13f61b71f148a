"""/metrics of a real gunicorn with two worker processes (deploy/gunicorn.conf.py): PIN entries
answered by both workers are counted once each in the node's totals, whichever worker answers
the scrape; and the endpoint refuses a client outside the monitoring network."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from tests.access.conftest import open_around_the_clock, pair_tablet
from tests.justface.test_deploy import database_url, free_ports
from tests.monitoring.helpers import value

ROOT = Path(__file__).resolve().parents[2]


def start_gunicorn(tmp_path: Path, port: int, **env) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "WEB_CONCURRENCY": "2",
        "JUSTFACE_METRICS_DIR": str(tmp_path / "metrics"),
        "JUSTFACE_LOG_FORMAT": "json",
        "DJANGO_LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/livez", timeout=2).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stop(server)
    raise TimeoutError("gunicorn did not answer within 90 s")


def stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def decisions_per_process(folder: Path) -> dict[int, float]:
    """Each worker's own count of door decisions, from its file in the multi-process folder."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        pid = int(re.search(r"counter_(\d+)\.db", path.name).group(1))
        for family in MultiProcessCollector.merge([str(path)]):
            for sample in family.samples:
                if sample.name == "justface_door_decisions_total":
                    counts[pid] = counts.get(pid, 0) + sample.value
    return counts


@pytest.mark.django_db(transaction=True)
def test_both_workers_counters_are_summed(world, tmp_path):
    open_around_the_clock(world.centre_a1)
    tablet = pair_tablet(world.centre_a1)
    (port,) = free_ports(1)
    server = start_gunicorn(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:

        def entry(n: int) -> int:
            # A new connection each: gunicorn's workers take turns accepting them.
            return requests.post(
                f"{base}/api/v1/door/pin/",
                json={"member_number": f"99{n:04d}", "pin": "1234"},
                headers={"Authorization": f"Device {tablet.token}", "Connection": "close"},
                timeout=30,
            ).status_code

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while sent < 200:
                assert set(pool.map(entry, range(sent, sent + 16))) == {200}
                sent += 16
                if len(decisions_per_process(tmp_path / "metrics")) >= 2:
                    break
        per_process = decisions_per_process(tmp_path / "metrics")
        assert len(per_process) == 2 and all(per_process.values()), per_process
        door = {"chain": world.chain_a.pk, "centre": world.centre_a1.pk, "door": tablet.device.door_id}
        for _ in range(4):  # whichever worker answers the scrape, it reports the node's total
            text = requests.get(f"{base}/metrics", timeout=30).text
            # Wrong PINs, then (past the device's 20) a locked PIN pad: every entry is a decision.
            decided = value(text, "justface_door_decisions_total", **door, method="pin")
            answered = value(text, "justface_door_request_seconds_count", **door, endpoint="door-pin")
            assert (decided, answered) == (sent, sent), [s for s in text.splitlines() if "door-pin" in s][:20]
        assert response_has_request_id(base)
    finally:
        stop(server)


def response_has_request_id(base: str) -> bool:
    """The tablet gets back the request id nginx gave (or the node's own): one complaint, one id."""
    given = requests.get(f"{base}/livez", headers={"X-Request-ID": "nginx-abc123"}, timeout=10)
    minted = requests.get(f"{base}/livez", timeout=10)
    return given.headers["X-Request-ID"] == "nginx-abc123" and len(minted.headers["X-Request-ID"]) == 32


@pytest.mark.django_db(transaction=True)
def test_a_client_outside_the_monitoring_network_is_refused(world, tmp_path):
    (port,) = free_ports(1)
    server = start_gunicorn(tmp_path, port, JUSTFACE_METRICS_ALLOW="10.250.0.0/16", WEB_CONCURRENCY="1")
    try:
        refused = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
        assert refused.status_code == 403 and "justface_" not in refused.text
    finally:
        stop(server)

"""A worker node's /metrics: a real django-q2 cluster (`manage.py qcluster`, its own processes)
with JUSTFACE_METRICS_LISTEN serves the tasks its workers finished, by task and outcome, to a
scraper with the token, and refuses one without."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django_q.tasks import async_task

from monitoring.access import token_sha256
from tests.justface.test_deploy import database_url, free_ports
from tests.monitoring.helpers import value

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "worker-scrape-token"


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise TimeoutError(what)


@pytest.mark.django_db(transaction=True)
def test_a_cluster_serves_its_tasks_metrics(tmp_path):
    (port,) = free_ports(1)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "JUSTFACE_Q_BROKER_URL": "",
        "JUSTFACE_METRICS_DIR": str(tmp_path / "metrics"),
        "JUSTFACE_METRICS_LISTEN": f"127.0.0.1:{port}",
        "JUSTFACE_METRICS_ALLOW": "10.250.0.0/16",
        "JUSTFACE_METRICS_TOKEN_SHA256": token_sha256(TOKEN),
        "JUSTFACE_Q_WORKERS": "2",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(tmp_path / "cluster.log", "wb") as log:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/metrics"
    authorised = {"Authorization": f"Bearer {TOKEN}"}

    def scrape() -> str | None:
        assert cluster.poll() is None, (tmp_path / "cluster.log").read_text()[-3000:]
        try:
            answer = requests.get(url, headers=authorised, timeout=5)
        except requests.ConnectionError:
            return None
        return answer.text if answer.ok else None

    try:
        wait_for(lambda: scrape() is not None, 90, "the cluster's metrics server did not answer")
        # Queued for the cluster (not run here, as the tests' sync setting would).
        for n in (2.5, 3.5, "not a number"):
            async_task("math.floor", n, sync=False)

        def counted() -> str | None:
            text = scrape()
            done = text and value(text, "justface_task_runs_total", task="math.floor")
            return text if done == 3 else None

        text = wait_for(counted, 60, f"not counted: {scrape()}\n{(tmp_path / 'cluster.log').read_text()[-3000:]}")
        assert value(text, "justface_task_runs_total", task="math.floor", outcome="success") == 2
        assert value(text, "justface_task_runs_total", task="math.floor", outcome="failure") == 1
        assert value(text, "justface_task_last_finished_timestamp_seconds") > time.time() - 120
        refused = requests.get(url, timeout=5)
        assert refused.status_code == 403 and "justface_" not in refused.text
        assert requests.get(f"http://127.0.0.1:{port}/other", headers=authorised, timeout=5).status_code == 404
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        try:
            os.killpg(cluster.pid, signal.SIGKILL)  # a worker left behind
        except ProcessLookupError:
            pass

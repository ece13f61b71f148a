"""The background worker yields the CPU to the door (justface.worker_priority): a process takes
the idle policy and lowers its nice value, and its autogroup's only in a session of the worker's
own; it never raises either, and never fails for want of them. Each run is a process in a
session of its own, so the test runner keeps its own priority."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROBE = """
import json, os
from justface import worker_priority as w
w.lower({nice}, idle={idle}, session_marker=os.environ["MARKER"].encode())
print(json.dumps({{"nice": os.getpriority(os.PRIO_PROCESS, 0), "idle": w.on_idle_policy(),
                  "autogroup": w.autogroup_nice()}}))
"""
AUTOGROUPS = Path("/proc/self/autogroup").exists()


def probe(nice: int, idle: bool = False, marker: bytes = b"-c", start: int = 0) -> dict:
    command = [sys.executable, "-c", PROBE.format(nice=nice, idle=idle)]
    if start:
        command = ["nice", "-n", str(start), *command]
    out = subprocess.run(
        command,
        cwd=settings.BASE_DIR,
        env={**os.environ, "MARKER": marker.decode()},  # not on the command line, where it would be found
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_worker_takes_the_idle_policy_and_lowers_its_nice_value_and_its_autogroups():
    got = probe(7, idle=True)
    assert got["nice"] == 7 and got["idle"] is True
    if AUTOGROUPS:
        assert got["autogroup"] == 7


def test_the_autogroup_is_left_alone_in_a_session_that_is_not_the_workers():
    got = probe(7, marker=b"qcluster")  # the session leader is this probe, not a cluster
    assert got["nice"] == 7 and got["idle"] is False
    if AUTOGROUPS:
        assert got["autogroup"] == 0


def test_nothing_is_raised_and_zero_changes_nothing():
    got = probe(0)
    assert got["nice"] == 0 and got["idle"] is False
    assert probe(5, start=12)["nice"] == 12  # already lower: left as it is


def test_the_setting_is_checked():
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "config.settings_test", "JUSTFACE_Q_NICE": "25", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "JUSTFACE_Q_NICE must be from 0 to 19" in out.stderr


def test_under_systemd_the_worker_unit_is_an_idle_cgroup():
    units = settings.BASE_DIR / "deploy" / "systemd"
    assert "\nCPUWeight=idle\n" in (units / "justface-qcluster@.service").read_text()
    assert "CPUWeight" not in (units / "justface-web@.service").read_text()  # the default, 100

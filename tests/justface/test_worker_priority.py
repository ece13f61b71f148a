"""The background worker yields the CPU to the door: a process lowers its nice value and its
autogroup's (justface.worker_priority), never raises either, and never fails for want of them.
Each run is a process in a session of its own, so the test runner keeps its own priority."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROBE = """
import json, os
from justface import worker_priority as w
w.lower({nice})
print(json.dumps({{"nice": os.getpriority(os.PRIO_PROCESS, 0), "autogroup": w.autogroup_nice()}}))
"""


def probe(nice: int, start: int = 0) -> dict:
    command = [sys.executable, "-c", PROBE.format(nice=nice)]
    if start:
        command = ["nice", "-n", str(start), *command]
    out = subprocess.run(
        command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60, start_new_session=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_worker_lowers_its_nice_value_and_its_autogroups():
    got = probe(7)
    assert got["nice"] == 7
    if Path("/proc/self/autogroup").exists():
        assert got["autogroup"] == 7


def test_nothing_is_raised_and_zero_changes_nothing():
    assert probe(0)["nice"] == 0
    assert probe(5, start=12)["nice"] == 12  # already lower: left as it is


def test_the_setting_is_checked():
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "config.settings_test", "JUSTFACE_Q_NICE": "25", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "JUSTFACE_Q_NICE must be from 0 to 19" in out.stderr


def test_under_systemd_the_worker_unit_weighs_below_the_web_units():
    units = settings.BASE_DIR / "deploy" / "systemd"
    assert "\nCPUWeight=20\n" in (units / "justface-qcluster@.service").read_text()
    assert "CPUWeight" not in (units / "justface-web@.service").read_text()  # the default, 100

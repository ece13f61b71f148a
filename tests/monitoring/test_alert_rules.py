"""The alert rules (deploy/prometheus/alerts.yml) are valid, their unit tests pass (promtool, from
Debian's prometheus package: `make test` installs it), and every alert has a test that fires it
and one that finds it silent."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
TESTS = sorted((ROOT / "deploy" / "prometheus" / "tests").glob("*.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: apt-get install prometheus (make test does)"
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=ROOT / "deploy" / "prometheus" / "tests")


def test_promtool_checks_the_rules():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_runs_the_rules_unit_tests():
    assert TESTS
    tested = promtool("test", "rules", *map(str, TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_and_a_silent_case():
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    firing, silent = set(), set()
    for path in TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    assert alerts - firing == set(), "alerts no test fires"
    assert alerts - silent == set(), "alerts no test finds silent"


def test_every_alert_has_a_runbook_entry():
    """Each rule's runbook link names a heading of docs/operations.md (GitHub's anchors)."""
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("#")
    }
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            page, _, anchor = rule["annotations"]["runbook"].partition("#")
            assert page == "docs/operations.md" and anchor in anchors, rule["alert"]

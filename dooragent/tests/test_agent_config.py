"""The one config file and ``python -m dooragent --config FILE --check``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parents[1] / "src"


def check(tmp_path, text: str):
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "dooragent", "--config", str(path), "--check"],
        capture_output=True,
        text=True,
        cwd=AGENT_DIR,
        timeout=60,
    )


def test_a_good_config_passes(tmp_path, server_public):
    result = check(
        tmp_path,
        f'''server_url = "https://justface.example.org"
token = "abc"
door = 7
public_keys = ["{server_public}"]
[driver]
type = "mqtt"
host = "192.168.1.20"
device = "frontdoor"
''',
    )
    assert result.returncode == 0, result.stderr
    assert "OK (door 7, driver mqtt, 1 key(s))" in result.stdout


def test_each_problem_is_one_line_and_the_exit_is_non_zero(tmp_path):
    result = check(
        tmp_path,
        """server_url = "http://justface.example.org"
door = ""
public_keys = ["ed25519:0000000000000000:AAAA"]
poll_wait = 99
colour = "red"
[driver]
type = "osdp"
scbk = "00"
""",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 8, lines
    for expected in ("colour: unknown", "server_url: must be https", "token: missing", "door: missing",
                     "public_keys:", "poll_wait:", "driver.port:", "driver.scbk:"):  # fmt: skip
        assert any(expected in line for line in lines), expected
    assert "Traceback" not in result.stderr


def test_a_missing_or_broken_file_is_one_line(tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "dooragent", "--config", str(tmp_path / "nope.toml"), "--check"],
        capture_output=True,
        text=True,
        cwd=AGENT_DIR,
        timeout=60,
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    broken = check(tmp_path, "server_url = [")
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr and "Traceback" not in broken.stderr


def test_an_unknown_driver_is_named(tmp_path, server_public):
    result = check(
        tmp_path,
        f'''server_url = "https://x.example"
token = "t"
door = "1"
public_keys = ["{server_public}"]
[driver]
type = "gpio"
''',
    )
    assert result.returncode == 2 and "driver.type: unknown driver 'gpio'" in result.stderr

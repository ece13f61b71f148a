"""Deployment hardening and the environment-only secrets."""
import os
import subprocess
import sys
from pathlib import Path

from justface import envfile

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    # No .env either: a developer's `make run` writes one with keys these tests leave out.
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "justface.settings", "JUSTFACE_ENV_FILE": "", **env})


def production_env() -> dict:
    return {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
            "DJANGO_ALLOWED_HOSTS": "gym.example.com", "FIELD_ENCRYPTION_KEY": "uJIBV6p-6Y3p3TnJv8Kk1j4GxTFwKEmLgc0N8Fr1G1c=",
            "FIELD_HASH_KEY": "h" * 40}


def test_check_deploy_has_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_fails_with_one_clear_line():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["justface: Set the DJANGO_SECRET_KEY environment variable"]


def test_bad_encryption_key_is_refused_in_one_line():
    result = run_manage("check", **{**production_env(), "FIELD_ENCRYPTION_KEY": "not-a-key"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a Fernet key" in lines[0]


def test_envfile_writes_fresh_keys_once(tmp_path):
    target = tmp_path / ".env"
    envfile.main(["envfile", str(target)])
    first = target.read_text()
    assert "FIELD_ENCRYPTION_KEY=" in first and "DJANGO_SECRET_KEY=" in first and oct(target.stat().st_mode)[-3:] == "600"
    envfile.main(["envfile", str(target)])
    assert target.read_text() == first
    other = tmp_path / "other.env"
    envfile.main(["envfile", str(other)])
    assert other.read_text() != first

"""Deployment hardening and the environment-only secrets."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks

from justface import envfile

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    # No .env either: a developer's `make run` writes one with keys these tests leave out.
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "JUSTFACE_ENV_FILE": "", **env},
    )


def production_env() -> dict:
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
        "DJANGO_ALLOWED_HOSTS": "gym.example.com",
        "FIELD_ENCRYPTION_KEY": "uJIBV6p-6Y3p3TnJv8Kk1j4GxTFwKEmLgc0N8Fr1G1c=",
        "FIELD_HASH_KEY": "h" * 40,
    }


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
    assert (
        "FIELD_ENCRYPTION_KEY=" in first and "DJANGO_SECRET_KEY=" in first and oct(target.stat().st_mode)[-3:] == "600"
    )
    envfile.main(["envfile", str(target)])
    assert target.read_text() == first
    other = tmp_path / "other.env"
    envfile.main(["envfile", str(other)])
    assert other.read_text() != first


def settings_value(expression: str, **env: str) -> subprocess.CompletedProcess:
    """A value of the production settings module under `env` (no apps loaded: quick)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_", "JUSTFACE_"))}
    code = f"from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "JUSTFACE_ENV_FILE": "",
            **production_env(),
            **env,
        },
    )


def test_the_queue_stays_in_the_database_unless_a_redis_broker_is_named():
    result = settings_value("sorted(settings.Q_CLUSTER)")
    assert result.returncode == 0, result.stderr
    assert "'orm'" in result.stdout and "'redis'" not in result.stdout
    result = settings_value(
        "(settings.Q_CLUSTER.get('orm'), settings.Q_CLUSTER['redis'], settings.Q_CLUSTER['name'])",
        JUSTFACE_Q_BROKER_URL="redis://10.0.1.21:6379/2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(None, 'redis://10.0.1.21:6379/2', 'justface')"


def test_a_broker_url_that_is_not_redis_is_refused_in_one_line():
    result = run_manage("check", **production_env(), JUSTFACE_Q_BROKER_URL="amqp://10.0.1.21/")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "justface: JUSTFACE_Q_BROKER_URL must be a Redis URL (redis://, rediss:// or unix://), or empty."
    ]


def test_a_shared_queue_with_a_per_process_cache_is_a_deploy_warning(settings):
    def deploy_warnings() -> list[str]:
        return [m.id for m in run_checks(include_deployment_checks=True) if m.id.startswith("justface.")]

    settings.Q_CLUSTER = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"} | {
        "redis": "redis://10.0.1.21:6379/2"
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert deploy_warnings() == ["justface.W001"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://10.0.1.21:6379/1"}
    }
    assert deploy_warnings() == []
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": "default"}
    del settings.Q_CLUSTER["redis"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert deploy_warnings() == []  # one machine, the database queue: a per-process cache is the default


def test_secret_key_fallbacks_come_from_the_environment():
    result = settings_value("settings.SECRET_KEY_FALLBACKS", DJANGO_SECRET_KEY_FALLBACKS="old-key-1,old-key-2")
    assert result.stdout.strip() == "['old-key-1', 'old-key-2']"


def test_a_malformed_trusted_proxy_is_refused_in_one_line():
    result = run_manage("check", **production_env(), JUSTFACE_TRUSTED_PROXIES="10.0.1.10,10.0.1.0/33")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("justface: JUSTFACE_TRUSTED_PROXIES:") and "10.0.1.0/33" in lines[0]

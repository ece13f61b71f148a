"""An installation migrated with the migrations as they were before the empty merge migrations
were folded into their successors upgrades with `migrate`: the database is built with those
earlier migrations (the merges recreated, their successors depending on them again) in a fresh
database, then migrated with the current ones. Both the whole history and an installation that
stopped at a merge. On the suite's database engine (PostgreSQL in CI, else SQLite)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)

# The merge migrations that no longer exist, with their parents (none had an operation).
MERGES = {
    ("access", "0008_merge_20261126_0241"): [
        ("access", "0005_scan_confirm_grey_zone"),
        ("access", "0007_staff_language_names"),
    ],
    ("access", "0009_merge_0005_liveness_0008_merge_20261126_0241"): [
        ("access", "0005_liveness"),
        ("access", "0008_merge_20261126_0241"),
    ],
    ("access", "0011_merge_20261126_0301"): [
        ("access", "0009_staff_labels"),
        ("access", "0010_scan_status_confirm_and_challenge"),
    ],
    ("members", "0007_merge_0006_centre_liveness_0006_staff_language_names"): [
        ("members", "0006_centre_liveness"),
        ("members", "0006_staff_language_names"),
    ],
    ("members", "0008_merge_20261126_0301"): [
        ("members", "0007_merge_0006_centre_liveness_0006_staff_language_names"),
        ("members", "0007_staff_labels"),
    ],
    ("members", "0010_merge_0009_liveness_labels_0009_requests_desk"): [
        ("members", "0009_liveness_labels"),
        ("members", "0009_requests_desk"),
    ],
    ("retention", "0009_merge_0007_staff_labels_0008_clear_sessions_schedule"): [
        ("retention", "0007_staff_labels"),
        ("retention", "0008_clear_sessions_schedule"),
    ],
}
# Each merge's successor: it depended on the merge where it now depends on what the merge joined.
SUCCESSORS = {
    ("access", "0009_staff_labels"): (
        "0008_merge_20261126_0241",
        ["0005_scan_confirm_grey_zone", "0007_staff_language_names"],
    ),
    ("access", "0010_scan_status_confirm_and_challenge"): (
        "0009_merge_0005_liveness_0008_merge_20261126_0241",
        ["0005_liveness", "0005_scan_confirm_grey_zone", "0007_staff_language_names"],
    ),
    ("access", "0012_liveness_labels"): (
        "0011_merge_20261126_0301",
        ["0009_staff_labels", "0010_scan_status_confirm_and_challenge"],
    ),
    ("members", "0009_liveness_labels"): (
        "0008_merge_20261126_0301",
        ["0006_centre_liveness", "0006_staff_language_names", "0007_staff_labels"],
    ),
    ("members", "0011_request_desk_labels"): (
        "0010_merge_0009_liveness_labels_0009_requests_desk",
        ["0009_liveness_labels", "0009_requests_desk"],
    ),
    ("retention", "0010_request_desk_labels"): (
        "0009_merge_0007_staff_labels_0008_clear_sessions_schedule",
        ["0007_staff_labels", "0008_clear_sessions_schedule"],
    ),
}
APPS = sorted({app for app, _ in MERGES})


def _dependency_line(app: str, name: str) -> str:
    return f"        ('{app}', '{name}'),\n"


def earlier_migrations(folder: Path) -> None:
    """Copies of the apps' migration packages as they were with the merges (old_<app>_migrations)."""
    for app in APPS:
        package = folder / f"old_{app}_migrations"
        shutil.copytree(ROOT / app / "migrations", package, ignore=shutil.ignore_patterns("__pycache__"))
        for (merge_app, merge), parents in MERGES.items():
            if merge_app == app:
                deps = "".join(_dependency_line(*parent) for parent in parents)
                (package / f"{merge}.py").write_text(
                    "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
                    f"    dependencies = [\n{deps}    ]\n    operations = []\n"
                )
        for (succ_app, successor), (merge, now) in SUCCESSORS.items():
            if succ_app != app:
                continue
            path = package / f"{successor}.py"
            text = path.read_text()
            joined = "".join(_dependency_line(app, name) for name in now)
            assert joined in text, f"{successor} no longer depends on what {merge} joined: update this test"
            path.write_text(text.replace(joined, _dependency_line(app, merge)))
    modules = {app: f"old_{app}_migrations" for app in APPS}
    (folder / "old_settings.py").write_text(
        f"from config.settings_test import *  # noqa: F403\n\nMIGRATION_MODULES = {modules!r}\n"
    )


def manage(folder: Path, database_url: str, *args: str, settings_module: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args, f"--settings={settings_module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of an empty database of the suite's engine, dropped afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    import psycopg

    s = connection.settings_dict
    server = f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    name = f"upgrade_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("stopped_at", [None, ("members", "0008_merge_20261126_0301")])
def test_an_installation_migrated_with_the_merges_upgrades(tmp_path, fresh_database, stopped_at):
    earlier_migrations(tmp_path)
    target = list(stopped_at) if stopped_at else []
    manage(tmp_path, fresh_database, "migrate", *target, "--no-input", settings_module="old_settings")
    before = manage(tmp_path, fresh_database, "showmigrations", "members", settings_module="old_settings")
    assert "[X] 0008_merge_20261126_0301" in before  # the installation recorded the merges

    upgraded = manage(tmp_path, fresh_database, "migrate", "--no-input", settings_module="config.settings_test")
    assert "Operations to perform" in upgraded
    if stopped_at is None:
        assert "No migrations to apply." in upgraded  # the merges held no operation
    manage(tmp_path, fresh_database, "migrate", "--check", settings_module="config.settings_test")

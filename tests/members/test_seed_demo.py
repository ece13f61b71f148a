import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from justface.models import User
from members.models import Centre, Chain, Member


def test_seed_demo_is_idempotent_and_prints_logins(db, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert Chain.objects.count() == 1 and Centre.objects.count() == 2 and Member.objects.count() == 50
    assert {"manager", "frontdesk", "dpo"} <= set(User.objects.values_list("username", flat=True))
    for out in (first, second):
        assert "manager" in out and "frontdesk" in out and "dpo" in out and "password: justface-demo" in out
    assert "(50 new)" in first and "(0 new)" in second
    assert User.objects.get(username="frontdesk").staff_role.centres.count() == 1


def _dump() -> str:
    if connection.vendor == "postgresql":
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is not on PATH"
        s = connection.settings_dict
        cmd = [pg_dump, "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"], s["NAME"]]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return "\n".join(connection.connection.iterdump())


def _in_clear(value: str, dump: str) -> bool:
    """`value` as text of its own, not as four letters inside a Fernet token or a hash (a short
    last name such as "Holm" turns up in random base64 about once in a few test runs)."""
    token = r"[A-Za-z0-9_=+/-]"
    return re.search(rf"(?<!{token}){re.escape(value)}(?!{token})", dump) is not None


@pytest.mark.django_db(transaction=True)  # committed, so a separate pg_dump process sees the rows
def test_database_dump_holds_no_names_emails_or_phones(capsys):
    call_command("seed_demo")
    dump = _dump()
    assert "Demo Fitness Nørrebro" in dump  # the dump did see the data
    members = list(Member.objects.all())
    assert len(members) == 50
    for m in members:
        for value in (m.first_name + " " + m.last_name, m.last_name, m.email, m.phone, m.phone.replace(" ", "")):
            assert not _in_clear(value, dump), f"{value!r} is in the dump in clear"


def test_demo_has_doors_tokens_and_weeks_of_marked_synthetic_events(db, capsys, monkeypatch, settings):
    """A trial shows something: a door per centre with its token printed, a few weeks
    of access events marked as demo data (statistics, reports and door failures have content), the
    URL with the port in use, and --open-all-hours for trying the door at night."""
    from access.models import AccessEvent, DeviceToken, Door, HourlyStat

    settings.JUSTFACE_PUBLIC_URL = ""
    monkeypatch.setenv("PORT", "8123")
    call_command("seed_demo")
    out = capsys.readouterr().out
    doors = list(Door.objects.all())
    assert len(doors) == 2 and all("(demo)" in d.name for d in doors)
    assert DeviceToken.objects.filter(revoked_at=None).count() == 2
    assert out.count("shown once:") == 2 and "http://127.0.0.1:8123/admin/" in out
    assert "norrebro" in out and "vesterbro" in out
    events = AccessEvent.objects.all()
    assert events.count() > 500 and all(e.liveness_detail == {"demo": True} for e in events)
    days = {e.at.date() for e in events}
    assert len(days) >= 21
    assert events.filter(reason="liveness_failed").count() >= 5 and events.filter(decision="denied").count() > 20
    assert HourlyStat.objects.filter(check_ins__gt=0).count() > 100  # the statistics are counted
    count = events.count()
    call_command("seed_demo", "--open-all-hours")
    again = capsys.readouterr().out
    assert AccessEvent.objects.count() == count and "shown once:" not in again  # nothing twice
    assert all(c.opening_hours == {} for c in Centre.objects.all()) and "open around the clock" in again

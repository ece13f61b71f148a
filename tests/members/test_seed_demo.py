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


@pytest.mark.django_db(transaction=True)  # committed, so a separate pg_dump process sees the rows
def test_database_dump_holds_no_names_emails_or_phones(capsys):
    call_command("seed_demo")
    dump = _dump()
    assert "Demo Fitness Nørrebro" in dump  # the dump did see the data
    members = list(Member.objects.all())
    assert len(members) == 50
    for m in members:
        for value in (m.first_name + " " + m.last_name, m.last_name, m.email, m.phone, m.phone.replace(" ", "")):
            assert value not in dump, f"{value!r} is in the dump in clear"

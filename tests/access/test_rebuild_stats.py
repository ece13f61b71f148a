"""`manage.py rebuild_hourly_stats`: recounting a chain's hourly statistics from its access events
gives the same rows the door keeps as events happen (access.services → access.stats.count_event)."""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from access import stats
from access.models import HourlyStat
from members.services import set_pin
from tests.conftest import make_member
from tests.dpo.conftest import CPH, desk, event  # noqa: F401 (desk: the fixture)

COLUMNS = ("centre_id", "hour", "check_ins", "check_outs", "denied", "peak_inside")


def rows(**where) -> list[tuple]:
    return list(HourlyStat.objects.filter(**where).order_by("centre_id", "hour").values_list(*COLUMNS))


def rebuild(*args) -> str:
    err = StringIO()
    call_command("rebuild_hourly_stats", *args, stderr=err, stdout=StringIO())
    return err.getvalue()


def test_rebuilding_gives_the_rows_the_door_counted(tablet_a, world):
    """Real door decisions (PIN pad): granted in and out, a wrong PIN, a second member inside."""
    pia, per = (make_member(world.chain_a, world.centre_a1, first_name=n) for n in ("Pia", "Per"))
    for m in (pia, per):
        set_pin(member=m, pin="2580", actor=None)
    assert tablet_a.pin(pia.member_number, "2580").json()["status"] == "granted"
    assert tablet_a.pin(per.member_number, "2580").json()["status"] == "granted"
    assert tablet_a.pin(per.member_number, "9999").json()["status"] == "denied"
    assert tablet_a.pin(pia.member_number, "2580", direction="out").json()["status"] == "granted"
    live = rows()
    assert live and sum(r[2] for r in live) == 2 and sum(r[3] for r in live) == 1 and sum(r[4] for r in live) == 1
    assert max(r[5] for r in live) == 2

    HourlyStat.objects.all().delete()
    assert "4 event(s) recounted" in rebuild("--chain", "alpha")
    assert rows() == live
    rebuild("--chain", "alpha")  # idempotent
    assert rows() == live
    today = timezone.localdate().isoformat()
    rebuild("--chain", "alpha", "--centre", "a1", "--from", today, "--to", today)
    assert rows() == live


def test_a_period_replaces_only_its_own_days(desk):
    live = rows()
    HourlyStat.objects.all().delete()
    # 2 March only, centre a1: ann's check-in and check-out; the 3rd (a refusal) and a2 stay uncounted.
    assert "2 event(s) recounted in 1 centre(s)" in rebuild(
        "--chain", "alpha", "--centre", "a1", "--from", "2026-03-02", "--to", "2026-03-02"
    )
    assert rows() == [r for r in live if r[0] == desk.centre_a1.pk and r[1].astimezone(CPH).day == 2]
    rebuild("--chain", "alpha", "--from", "2026-03-01", "--to", "2026-03-31")
    assert rows(centre__chain=desk.chain_a) == [r for r in live if r[0] != desk.centre_b1.pk]
    assert rows(centre__chain=desk.chain_b) == []  # another chain is never touched
    rebuild("--chain", "beta")
    assert rows() == live


def test_rows_outside_the_period_are_kept(desk):
    before = rows(centre=desk.centre_a1)
    extra = event(
        desk.centre_a1,
        at=datetime(2026, 4, 1, 12, 0, tzinfo=CPH),
        decision="denied",
        reason="not_recognised",
        count=False,
    )
    rebuild("--chain", "alpha", "--centre", "a1", "--from", "2026-04-01", "--to", "2026-04-01")
    assert rows(centre=desk.centre_a1) == before + [(desk.centre_a1.pk, stats.hour_of(extra.at), 0, 0, 1, 0)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--chain", "nope"], "No chain with the slug 'nope'."),
        (["--chain", "alpha", "--centre", "b1"], "No centre 'b1' in chain 'alpha'."),
        (["--chain", "alpha", "--from", "2026-03-02"], "Give both --from and --to"),
        (["--chain", "alpha", "--from", "2026-03-05", "--to", "2026-03-01"], "The period is reversed"),
        (["--chain", "alpha", "--from", "2026-13-01", "--to", "2026-03-01"], "--from '2026-13-01' is not a date"),
    ],
)
def test_bad_input_is_a_one_line_error(desk, args, message):
    before = rows()
    with pytest.raises(CommandError) as error:
        rebuild(*args)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert rows() == before

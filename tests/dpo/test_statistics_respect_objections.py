"""Statistics leave out whom they must: "most inside" counts neither a member who
objected to statistics nor one whose data is restricted, at a check-in as at the start of an hour,
exactly like the check-in counts; once a restriction is lifted the member counts again."""

from __future__ import annotations

from datetime import datetime

from django.core import mail

from access import stats
from access.models import HourlyStat
from members import services
from tests.conftest import make_member
from tests.dpo.conftest import CPH, event


def hour_row(centre, day: int, hour: int) -> HourlyStat:
    return HourlyStat.objects.get(centre=centre, hour=stats.hour_of(datetime(2026, 3, day, hour, tzinfo=CPH)))


def request(world, member, kind: str, objection_to: str = ""):
    return services.record_data_subject_request(
        chain=world.chain_a,
        kind=kind,
        objection_to=objection_to,
        channel="email",
        member=member,
        actor=world.user("dpo_a"),
    )


def test_most_inside_leaves_out_objections_and_restrictions(world):
    centre = world.centre_a1
    objector = make_member(world.chain_a, centre)
    restricted = make_member(world.chain_a, centre)
    counted = make_member(world.chain_a, centre)
    request(world, objector, "objection", "statistics")
    request(world, restricted, "restriction")
    objector.refresh_from_db()
    restricted.refresh_from_db()
    for n, member in enumerate((objector, restricted, counted)):
        event(centre, member=member, at=datetime(2026, 3, 2, 7, 5 + n, tzinfo=CPH))
    row = hour_row(centre, 2, 7)
    assert row.check_ins == 1 and row.peak_inside == 1  # was 3: every visit counted
    # Nobody checks in at 08:00, all three are still inside: the hourly sampling counts one.
    assert stats.sample_hour_starts(at=datetime(2026, 3, 2, 8, 0, 30, tzinfo=CPH)) >= 1
    assert hour_row(centre, 2, 8).peak_inside == 1
    assert stats.day_curve(scope=_scope(world), centre=centre, day=datetime(2026, 3, 2).date())[7]["peak_inside"] == 1


def test_a_lifted_restriction_counts_again(world):
    centre = world.centre_a1
    member = make_member(world.chain_a, centre, email="once@example.com")
    other = make_member(world.chain_a, centre)
    request(world, member, "restriction")
    member.refresh_from_db()
    event(centre, member=member, at=datetime(2026, 3, 2, 7, 5, tzinfo=CPH))
    event(centre, member=other, at=datetime(2026, 3, 2, 7, 10, tzinfo=CPH))
    assert hour_row(centre, 2, 7).peak_inside == 1
    mail.outbox.clear()
    services.lift_restriction(member=member, actor=world.user("manager_a"))
    assert mail.outbox[0].to == ["once@example.com"]
    event(centre, member=member, at=datetime(2026, 3, 3, 9, 0, tzinfo=CPH))
    event(centre, member=other, at=datetime(2026, 3, 3, 9, 5, tzinfo=CPH))
    row = hour_row(centre, 3, 9)
    assert row.check_ins == 2 and row.peak_inside == 2


def _scope(world):
    from justface.tenancy import scope_for

    return scope_for(world.user("manager_a"))

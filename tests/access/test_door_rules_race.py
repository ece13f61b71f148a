"""Two entries of one member at two doors at the same moment (real threads, each with its own
database connection): the door rules that count earlier entries must not let both in.

Each entry's first check is held at a barrier until the other's has run too, so both pass it
(neither has written its event yet): the very race that let both in before. What refuses the
second is the check made again under the member's lock in the decision's transaction
(access.entry_lock): PostgreSQL's row lock, SQLite's immediate write transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from access.models import AccessEvent
from access.services import pins
from tests.access.conftest import pair_tablet

pytestmark = pytest.mark.django_db(transaction=True)


def race(monkeypatch, tablets, member) -> tuple[list[str], list]:
    """One PIN entry per tablet, all at once; (the final reasons, the first checks' results)."""
    real = pins.entry_refusal
    barrier = threading.Barrier(len(tablets), timeout=30)
    first_checks: list = []

    def held_first_check(member, scan, now):
        refusal = real(member, scan, now)
        first_checks.append(refusal)
        barrier.wait()  # both entries have passed their first check before either is written
        return refusal

    monkeypatch.setattr(pins, "entry_refusal", held_first_check)
    reasons: list[str] = []
    errors: list[BaseException] = []

    def enter(tablet) -> None:
        try:
            response = tablet.pin(member.member_number, "4711")
            assert response.status_code == 200, response.content
            reasons.append(response.json()["reason"])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enter, args=(tablet,)) for tablet in tablets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return sorted(reasons), first_checks


def both_doors(world, tablet_a, **rules):
    second = pair_tablet(world.centre_a1, "Side door")
    for tablet in (tablet_a, second):
        door = tablet.device.door
        for name, value in rules.items():
            setattr(door, name, value)
        door.full_clean()
        door.save()
    return [tablet_a, second]


def test_two_simultaneous_entries_under_anti_passback_let_in_only_one(monkeypatch, world, tablet_a, colin):
    tablets = both_doors(world, tablet_a, anti_passback="refuse", anti_passback_scope="centre")
    reasons, first_checks = race(monkeypatch, tablets, colin)
    assert first_checks == [None, None]  # the race was real: both passed the first check
    assert reasons == ["anti_passback", "ok"]
    granted = AccessEvent.objects.filter(member=colin, decision="granted")
    assert granted.count() == 1
    assert AccessEvent.objects.get(member=colin, decision="denied").reason == "anti_passback"


def test_one_pin_typed_at_two_doors_at_once_is_refused_at_one(monkeypatch, world, tablet_a, colin):
    tablets = both_doors(world, tablet_a, refuse_pin_reuse=True)
    reasons, first_checks = race(monkeypatch, tablets, colin)
    assert first_checks == [None, None]
    assert reasons == ["ok", "pin_reused"]
    assert AccessEvent.objects.filter(member=colin, decision="granted").count() == 1


def test_doors_without_such_rules_let_both_in_as_before(monkeypatch, world, tablet_a, colin):
    tablets = both_doors(world, tablet_a)
    reasons, _ = race(monkeypatch, tablets, colin)
    assert reasons == ["ok", "ok"]


def test_in_flag_mode_both_are_let_in_and_the_second_is_flagged(monkeypatch, world, tablet_a, colin):
    tablets = both_doors(world, tablet_a, anti_passback="flag", anti_passback_scope="centre")
    reasons, first_checks = race(monkeypatch, tablets, colin)
    assert reasons == ["ok", "ok"]
    flags = sorted(AccessEvent.objects.filter(member=colin).values_list("flag", flat=True))
    assert flags == ["", "anti_passback"]

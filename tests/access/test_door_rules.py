"""Rules per door, through the real door API with real photos and PINs, at two doors
of one centre: the door's own opening hours, membership types, exit only, anti-passback (refuse or
flag, per door or per centre) and a PIN used at two doors within a minute. Every default keeps the
door as it was. The clock is pinned: a Wednesday, 11:00 in Copenhagen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from access.messages import DENIED, Reason, door_message
from access.models import AccessEvent, Door
from justface import display
from members.models import Member
from members.services import set_pin
from members.subject_data import held_about
from tests.access.conftest import enrolled, pair_tablet
from tests.access.test_grey_zone import confirm, grey_scan
from tests.conftest import face_photo

WEDNESDAY_11 = datetime(2027, 3, 10, 10, 0, tzinfo=UTC)  # 11:00 in Copenhagen
NEW_REASONS = [
    Reason.DOOR_CLOSED,
    Reason.MEMBERSHIP_TYPE_NOT_ALLOWED,
    Reason.EXIT_ONLY,
    Reason.ANTI_PASSBACK,
    Reason.PIN_REUSED,
]


@pytest.fixture
def clock(world):
    # The world (its chains) is made before the clock stops: a process's face gallery is keyed by
    # the chain's id and creation time (members.gallery), and chains created at one pinned instant
    # in every test would find the previous test's gallery.
    with time_machine.travel(WEDNESDAY_11, tick=False) as traveller:
        yield traveller


@pytest.fixture
def second_door(clock, tablet_a, world):
    """Another door of the same centre as tablet_a's."""
    return pair_tablet(world.centre_a1, "Premium room")


def set_rules(tablet, **rules) -> Door:
    door = tablet.device.door
    for name, value in rules.items():
        setattr(door, name, value)
    door.full_clean()
    door.save()
    tablet.device.door = door  # the token's door is what the API loads: keep it in step
    return door


def face(tablet, *, direction=None, photo=2) -> tuple[str, str]:
    response = tablet.scan(face_photo("Colin_Powell", photo), direction=direction)
    assert response.status_code == 200, response.content
    return response.json()["status"], response.json()["reason"]


def pin(tablet, member, *, direction=None) -> tuple[str, str]:
    response = tablet.pin(member.member_number, "4711", direction=direction)
    assert response.status_code == 200, response.content
    return response.json()["status"], response.json()["reason"]


def test_without_rules_the_doors_behave_as_before(clock, tablet_a, second_door, colin):
    door = Door.objects.get(pk=tablet_a.device.door_id)
    assert (door.opening_hours, door.membership_types, door.exit_only) == ({}, "", False)
    assert (door.anti_passback, door.refuse_pin_reuse) == ("off", False)
    # Two entries in a row, by PIN at two doors within a second: both let in, nothing flagged.
    assert pin(tablet_a, colin) == ("granted", "ok")
    assert pin(second_door, colin) == ("granted", "ok")
    assert face(tablet_a) == ("granted", "ok")
    assert set(AccessEvent.objects.values_list("flag", flat=True)) == {""}


def test_a_door_with_its_own_hours_is_closed_outside_them_while_the_centre_is_open(clock, tablet_a, second_door, colin):
    # The centre is open around the clock; the premium room only 06:00–09:00 on Wednesdays.
    set_rules(second_door, opening_hours={"wed": [["06:00", "09:00"]]})
    body = second_door.scan(face_photo("Colin_Powell", 2)).json()
    assert (body["status"], body["reason"]) == ("denied", "door_closed")
    assert body["message"] == "Døren er lukket lige nu. Brug en anden indgang."
    event = AccessEvent.objects.get()
    assert event.member is None and event.score is None  # no face analysed at a closed door
    assert pin(second_door, colin) == ("denied", "door_closed")
    assert face(second_door, direction="out") == ("granted", "goodbye")  # leaving is never refused
    assert face(tablet_a) == ("granted", "ok")  # the other door keeps the centre's hours
    # Overnight hours (Tuesday 22:00 to Wednesday 06:00) let in at 04:30 on Wednesday morning.
    set_rules(second_door, opening_hours={"tue": [["22:00", "06:00"]]})
    clock.move_to(datetime(2027, 3, 10, 3, 30, tzinfo=UTC))
    assert pin(second_door, colin) == ("granted", "ok")
    clock.move_to(datetime(2027, 3, 10, 5, 30, tzinfo=UTC))  # 06:30: closed again
    assert pin(second_door, colin) == ("denied", "door_closed")


def test_a_premium_area_lets_in_only_the_membership_types_it_allows(clock, tablet_a, second_door, colin):
    set_rules(second_door, membership_types="Premium, Women only")
    Member.objects.filter(pk=colin.pk).update(membership_type="Basic")
    body = second_door.scan(face_photo("Colin_Powell", 2)).json()
    assert (body["status"], body["reason"]) == ("denied", "membership_type_not_allowed")
    assert AccessEvent.objects.get().member == colin  # identified, then refused by the door's rule
    assert pin(second_door, colin) == ("denied", "membership_type_not_allowed")
    assert pin(tablet_a, colin) == ("granted", "ok")  # the main entrance allows every type
    Member.objects.filter(pk=colin.pk).update(membership_type=" premium ")  # as staff type it
    assert face(second_door, photo=3) == ("granted", "ok")
    assert pin(second_door, colin) == ("granted", "ok")


def test_an_exit_only_door_refuses_every_entry_and_lets_members_out(clock, tablet_a, second_door, colin):
    set_rules(second_door, exit_only=True)
    assert face(second_door) == ("denied", "exit_only")
    assert AccessEvent.objects.get().score is None
    assert pin(second_door, colin) == ("denied", "exit_only")
    assert pin(tablet_a, colin) == ("granted", "ok")
    assert face(second_door, direction="out", photo=3)[0] == "granted"  # leaving is never refused
    assert pin(second_door, colin, direction="out") == ("granted", "ok")


def test_anti_passback_per_centre_refuses_a_second_entry_without_a_check_out(clock, tablet_a, second_door, colin):
    for tablet in (tablet_a, second_door):
        set_rules(tablet, anti_passback="refuse", anti_passback_minutes=30, anti_passback_scope="centre")
    assert face(tablet_a) == ("granted", "ok")
    # Passing the card (or the PIN) back: an entry at the other door of the centre is refused.
    assert face(second_door, photo=3) == ("denied", "anti_passback")
    assert pin(second_door, colin) == ("denied", "anti_passback")
    assert pin(tablet_a, colin) == ("denied", "anti_passback")
    # A check-out ends it...
    assert pin(tablet_a, colin, direction="out") == ("granted", "ok")
    assert face(second_door) == ("granted", "ok")
    # ...and so does the end of the window.
    clock.shift(timedelta(minutes=29))
    assert pin(tablet_a, colin) == ("denied", "anti_passback")
    clock.shift(timedelta(minutes=2))
    assert pin(tablet_a, colin) == ("granted", "ok")


def test_anti_passback_per_door_counts_only_that_doors_entries(clock, tablet_a, second_door, colin):
    set_rules(tablet_a, anti_passback="refuse", anti_passback_minutes=10, anti_passback_scope="door")
    assert pin(tablet_a, colin) == ("granted", "ok")
    assert face(second_door) == ("granted", "ok")  # another door: not this door's rule
    assert face(tablet_a, photo=3) == ("denied", "anti_passback")
    clock.shift(timedelta(minutes=11))
    assert face(tablet_a, photo=3) == ("granted", "ok")


def test_anti_passback_in_flag_mode_lets_in_and_flags_the_event_for_staff(clock, tablet_a, second_door, colin, login):
    for tablet in (tablet_a, second_door):
        set_rules(tablet, anti_passback="flag", anti_passback_minutes=30, anti_passback_scope="centre")
    assert pin(tablet_a, colin) == ("granted", "ok")
    assert face(second_door) == ("granted", "ok")
    first, second = AccessEvent.objects.order_by("pk")
    assert (first.flag, second.flag) == ("", "anti_passback")
    # Staff see it on the events list, in their language, and can filter on it.
    page = login("manager_a").get("/admin/access/accessevent/")
    with translation.override(page.wsgi_request.LANGUAGE_CODE):
        shown = str(display.label("access.flag", "anti_passback"))
    assert shown in page.content.decode() and page.content.decode().count(shown) >= 2  # column and filter
    filtered = login("manager_a").get("/admin/access/accessevent/", {"flag__exact": "anti_passback"})
    assert filtered.status_code == 200 and filtered.context["cl"].result_count == 1
    # The member sees it too, among their check-ins (My data; Art. 15).
    checkins = next(c for c in held_about(colin) if c.key == "checkins")
    assert sorted(row.get("flag", "") for row in checkins.data) == ["", "anti_passback"]


def test_a_pin_used_at_another_door_within_a_minute_is_refused(clock, tablet_a, second_door, colin):
    set_rules(second_door, refuse_pin_reuse=True)
    assert pin(tablet_a, colin) == ("granted", "ok")
    clock.shift(timedelta(seconds=30))
    assert pin(second_door, colin) == ("denied", "pin_reused")
    assert face(second_door) == ("granted", "ok")  # the face is the member's own: not a shared PIN
    clock.shift(timedelta(seconds=31))
    assert pin(second_door, colin) == ("granted", "ok")


def test_another_chains_staff_see_none_of_the_door_rules(clock, tablet_a, tablet_b, login):
    door = set_rules(tablet_a, membership_types="Secret premium", exit_only=True, anti_passback="flag")
    mine = login("manager_a").get(f"/admin/access/door/{door.pk}/change/")
    assert mine.status_code == 200 and "Secret premium" in mine.content.decode()
    theirs = login("manager_b")
    listed = theirs.get("/admin/access/door/").content.decode()
    assert "Secret premium" not in listed and "Alpha One" not in listed
    assert theirs.get(f"/admin/access/door/{door.pk}/change/").status_code in (302, 404)


def test_a_manager_sets_the_door_rules_in_the_admin_without_json(clock, tablet_a, login):
    door = tablet_a.device.door
    form = {
        "centre": door.centre_id,
        "name": door.name,
        "opening_hours_0": "",
        "opening_hours_1": "",
        "opening_hours_2": "22:00–06:00",
        "opening_hours_3": "",
        "opening_hours_4": "",
        "opening_hours_5": "08.00 - 14.00",
        "opening_hours_6": "",
        "membership_types": "Premium",
        "anti_passback": "refuse",
        "anti_passback_minutes": "20",
        "anti_passback_scope": "centre",
        "refuse_pin_reuse": "on",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
        "tokens-MIN_NUM_FORMS": "0",
        "tokens-MAX_NUM_FORMS": "1000",
    }
    client = login("manager_a")
    page = client.get(f"/admin/access/door/{door.pk}/change/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    with translation.override("da"):
        assert str(Door._meta.get_field("exit_only").verbose_name) in page
    response = client.post(f"/admin/access/door/{door.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    door.refresh_from_db()
    assert door.opening_hours == {"wed": [["22:00", "06:00"]], "sat": [["08:00", "14:00"]]}
    assert (door.membership_types, door.anti_passback, door.anti_passback_minutes) == ("Premium", "refuse", 20)
    assert (door.anti_passback_scope, door.refuse_pin_reuse, door.exit_only) == ("centre", True, False)
    bad = client.post(f"/admin/access/door/{door.pk}/change/", {**form, "opening_hours_0": "all day"})
    assert bad.status_code == 200 and bad.context["adminform"].form.errors["opening_hours"]


@pytest.mark.parametrize("reason", NEW_REASONS)
def test_every_door_rule_refusal_has_its_own_message_and_label_in_en_da_nb(reason):
    messages = {
        lang: door_message(language=lang, status="denied", reason=reason, direction="in") for lang in ("en", "da", "nb")
    }
    with translation.override("en"):
        english = {r: str(DENIED[r]) for r in DENIED}
    assert messages["en"] == english[reason] and len(set(messages.values())) == 3
    labels = set()
    for lang in ("en", "da", "nb"):
        with translation.override(lang):
            labels.add(str(display.label("access.reason", reason.value)))
    assert len(labels) == 3
    assert messages["en"] not in {text for r, text in english.items() if r != reason}


def test_the_heartbeat_gives_the_door_its_own_hours(clock, tablet_a, second_door):
    set_rules(second_door, opening_hours={"wed": [["06:00", "09:00"]]})
    own = second_door.heartbeat(app_version="kiosk-1").json()
    assert (own["opening_hours"], own["open_now"]) == ({"wed": [["06:00", "09:00"]]}, False)
    centres = tablet_a.heartbeat(app_version="kiosk-1").json()
    assert (centres["opening_hours"], centres["open_now"]) == ({}, True)


def test_the_access_report_offers_and_filters_the_new_reasons_by_their_labels(
    clock, tablet_a, second_door, colin, login
):
    set_rules(second_door, exit_only=True)
    assert pin(second_door, colin) == ("denied", "exit_only")
    assert pin(tablet_a, colin) == ("granted", "ok")
    client = login("manager_a")
    page = client.get("/staff/reports/access/")
    with translation.override(page.wsgi_request.LANGUAGE_CODE):
        labels = [str(display.label("access.reason", r.value)) for r in NEW_REASONS]
    assert all(label in page.content.decode() for label in labels)
    day = {"date_from": "2027-03-10", "date_to": "2027-03-10", "file_format": "csv"}
    response = client.post("/staff/reports/access/", {**day, "reason": "exit_only"})
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    rows = [line for line in text.splitlines() if ",exit_only" in line]
    assert len(rows) == 1 and ",granted," not in text  # only the refusal at the exit-only door


def test_a_grey_zone_face_confirmed_by_pin_meets_the_same_door_rules(clock, tablet_a, second_door, world):
    john = enrolled(world.chain_a, world.centre_a1, "John_Savage", first_name="John", membership_type="Basic")
    set_pin(member=john, pin="4711", actor=None)
    set_rules(second_door, membership_types="Premium")
    refused = confirm(second_door, grey_scan(second_door), "4711").json()
    assert (refused["status"], refused["reason"]) == ("denied", "membership_type_not_allowed")
    assert AccessEvent.objects.get().method == "face_pin"
    granted = confirm(tablet_a, grey_scan(tablet_a), "4711").json()
    assert (granted["status"], granted["reason"]) == ("granted", "ok")

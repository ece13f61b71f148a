"""The PIN pad: always there, whatever the member's face consent; locked after 5 wrong PINs
for a member number or 20 on a device, for 15 minutes, with the lockout in the audit trail."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import F
from django.utils import timezone

from access.models import AccessEvent, PinLockout, Scan, Visit
from justface.models import AuditEntry
from members.models import Member
from members.services import set_pin
from tests.access.conftest import pair_tablet
from tests.conftest import make_member

WRONG_PIN_DA = "Medlemsnummer eller PIN-kode er forkert. Efter 5 forkerte forsøg spærres et nummer i 15 minutter."


def answer(response) -> tuple[str, str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["method"] == "pin"
    return body["status"], body["reason"]


def test_a_member_without_face_consent_gets_in_with_their_pin(tablet_a, world):
    member = make_member(world.chain_a, world.centre_a1, first_name="Pia")
    set_pin(member=member, pin="2580", actor=None)
    response = tablet_a.pin(member.member_number, "2580")
    body = response.json()
    assert answer(response) == ("granted", "ok") and body["member"] == {"first_name": "Pia"}
    assert body["message"] == "Velkommen, Pia!"
    event = AccessEvent.objects.get()
    assert (event.member, event.method, event.decision) == (member, "pin", "granted")
    assert Visit.objects.get().member == member
    # Member numbers are matched as staff type them: case and spaces do not matter.
    assert answer(tablet_a.pin(f"  {member.member_number.lower()} ", "2580", direction="out")) == ("granted", "ok")


def test_wrong_pin_and_unknown_number_look_the_same(tablet_a, colin):
    wrong = tablet_a.pin(colin.member_number, "9999").json()
    unknown = tablet_a.pin("NOBODY-42", "4711").json()
    assert (wrong["reason"], wrong["message"]) == (unknown["reason"], unknown["message"]) == ("wrong_pin", WRONG_PIN_DA)
    assert wrong["member"] is unknown["member"] is None
    assert list(AccessEvent.objects.values_list("member", flat=True)) == [None, None]


def test_membership_rules_apply_to_the_pin_too(tablet_a, colin):
    Member.objects.filter(pk=colin.pk).update(status=Member.Status.ENDED)
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "membership_inactive")


def test_five_wrong_pins_lock_the_member_number_for_15_minutes(tablet_a, colin, world):
    for _ in range(5):
        assert answer(tablet_a.pin(colin.member_number, "1357")) == ("denied", "wrong_pin")
    locked = tablet_a.pin(colin.member_number, "4711").json()  # even the right PIN
    # ...and answered like a wrong PIN for an unknown number; staff see the lock.
    assert (locked["status"], locked["reason"], locked["message"]) == ("denied", "wrong_pin", WRONG_PIN_DA)
    assert AccessEvent.objects.get(scan=locked["id"]).reason == "pin_locked"
    lockout = PinLockout.objects.get(locked_until__isnull=False)
    assert lockout.device is None and lockout.locked_until - timezone.now() > timedelta(minutes=14)
    entry = AuditEntry.objects.get(action="door.pin_lockout")
    assert (entry.actor_kind, entry.actor_id, entry.chain_id) == ("device", tablet_a.device.pk, world.chain_a.pk)
    assert "member number" in entry.reason and colin.member_number not in entry.reason
    # Another door of the chain is locked for that number too; other members are not.
    other_door = pair_tablet(world.centre_a2)
    assert answer(other_door.pin(colin.member_number, "4711")) == ("denied", "wrong_pin")
    pia = make_member(world.chain_a, world.centre_a1)
    set_pin(member=pia, pin="2580", actor=None)
    assert answer(tablet_a.pin(pia.member_number, "2580")) == ("granted", "ok")
    # After 15 minutes the number works again, with a fresh count.
    fifteen_minutes_pass()
    assert answer(tablet_a.pin(colin.member_number, "1357")) == ("denied", "wrong_pin")
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("granted", "ok")


def fifteen_minutes_pass() -> None:
    minutes = timedelta(minutes=15, seconds=1)
    Scan.objects.update(created_at=F("created_at") - minutes)
    PinLockout.objects.update(
        created_at=F("created_at") - minutes,
        locked_until=F("locked_until") - minutes,
        window_started_at=F("window_started_at") - minutes,
    )


def test_a_correct_pin_resets_the_member_numbers_count(tablet_a, colin):
    for _ in range(4):
        tablet_a.pin(colin.member_number, "1357")
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("granted", "ok")
    for _ in range(4):
        assert answer(tablet_a.pin(colin.member_number, "1357")) == ("denied", "wrong_pin")
    assert not PinLockout.objects.exclude(locked_until=None).exists()


def test_twenty_wrong_pins_on_a_device_lock_the_device(tablet_a, colin, world):
    for n in range(20):
        assert answer(tablet_a.pin(f"GUESS-{n}", "1234")) == ("denied", "wrong_pin")
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "pin_locked")
    lockout = PinLockout.objects.get(locked_until__isnull=False)
    assert lockout.device == tablet_a.device and lockout.member_number_hash == ""
    assert AuditEntry.objects.filter(action="door.pin_lockout", reason__startswith="device").count() == 1
    # The chain's other doors keep working.
    assert answer(pair_tablet(world.centre_a1, "Back door").pin(colin.member_number, "4711")) == ("granted", "ok")


def test_another_chains_member_number_is_unknown_at_this_door(tablet_a, tablet_b, colin):
    assert answer(tablet_b.pin(colin.member_number, "4711")) == ("denied", "wrong_pin")


def test_a_retried_pin_entry_counts_once(tablet_a, colin):
    first = tablet_a.pin(colin.member_number, "1357", key="pin-attempt-1").json()
    again = tablet_a.pin(colin.member_number, "1357", key="pin-attempt-1").json()
    assert first == again and AccessEvent.objects.count() == 1


def test_the_heartbeat_records_the_tablet_and_returns_the_doors_configuration(tablet_a, world):
    response = tablet_a.heartbeat(app_version="kiosk-1", camera="ok")
    assert response.status_code == 200
    assert response.json() == {
        "door": "Main entrance",
        "centre": "Alpha One",
        "language": "da",
        "languages": ["da", "nb", "en"],
        "time_zone": "Europe/Copenhagen",
        "opening_hours": {},
        "open_now": True,
        "poll_interval_ms": 250,
    }
    tablet_a.device.refresh_from_db()
    assert tablet_a.device.last_status == {"app_version": "kiosk-1", "camera": "ok"}
    assert timezone.now() - tablet_a.device.last_seen_at < timedelta(seconds=5)


def test_the_schema_documents_the_door_api(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["DeviceToken"]["name"] == "Authorization"
    scans = schema["paths"]["/api/v1/door/scans/"]["post"]
    assert set(scans["responses"]) >= {"200", "202", "400", "401", "413", "415"}
    assert "multipart/form-data" in scans["requestBody"]["content"]
    assert {
        "/api/v1/door/scans/{scan_id}/",
        "/api/v1/door/scans/{scan_id}/confirm/",
        "/api/v1/door/pin/",
        "/api/v1/door/heartbeat/",
    } <= set(schema["paths"])
    decision = schema["components"]["schemas"]["Decision"]["properties"]
    assert set(decision) == {
        "id",
        "status",
        "reason",
        "message",
        "member",
        "method",
        "direction",
        "decided_at",
        "confirm_url",
        "challenge",
    }
    statuses = schema["components"]["schemas"][decision["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert "confirm" in statuses
    confirm = schema["paths"]["/api/v1/door/scans/{scan_id}/confirm/"]["post"]
    assert confirm["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConfirmRequest"
    }
    assert set(confirm["responses"]) >= {"200", "400", "401", "404"}
    assert client.get("/api/docs/").status_code == 200


def test_a_tablets_daily_cap_on_wrong_pins_locks_its_pad_until_staff_unlock_it(tablet_a, colin, world, login):
    """Guessing across many member numbers: the per-number lock never trips, so each tablet
    gets a daily cap (the chain's pin_device_daily_failures) after which its pad stays locked."""
    world.chain_a.settings = {"pin_device_daily_failures": 3}
    world.chain_a.save()
    for n in range(3):
        assert answer(tablet_a.pin(f"GUESS-{n}", "2468")) == ("denied", "wrong_pin")
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "pin_locked")
    lockout = PinLockout.objects.get(device=tablet_a.device)
    assert lockout.day_failures == 3 and lockout.locked_until - timezone.now() > timedelta(hours=0)
    local_midnight = lockout.locked_until.astimezone(ZoneInfo(world.centre_a1.time_zone))
    assert (local_midnight.hour, local_midnight.minute) == (0, 0)  # until the next local day
    assert AuditEntry.objects.filter(action="door.pin_lockout", reason__contains="daily cap").count() == 1
    # Even 16 minutes later the pad stays locked: it is a day's cap, not a 15-minute lock.
    PinLockout.objects.filter(device=tablet_a.device).update(
        window_started_at=F("window_started_at") - timedelta(minutes=16)
    )
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "pin_locked")
    # Other tablets of the chain keep working.
    assert answer(pair_tablet(world.centre_a1, "Back door").pin(colin.member_number, "4711")) == ("granted", "ok")
    # A manager unlocks it in the admin (front desk cannot).
    url = "/admin/access/devicetoken/"
    body = {"action": "unlock_pin_pad", "_selected_action": [tablet_a.device.pk]}
    login("frontdesk_a").post(url, body)
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "pin_locked")
    assert login("manager_a").post(url, body).status_code == 302
    assert AuditEntry.objects.filter(action="door.pin_unlock", object_id=str(tablet_a.device.pk)).count() == 1
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("granted", "ok")


def test_the_daily_cap_ends_with_the_day(tablet_a, colin, world):
    world.chain_a.settings = {"pin_device_daily_failures": 2}
    world.chain_a.save()
    for n in range(2):
        tablet_a.pin(f"GUESS-{n}", "2468")
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("denied", "pin_locked")
    a_day = timedelta(days=1)
    PinLockout.objects.update(
        locked_until=F("locked_until") - a_day, window_started_at=F("window_started_at") - a_day, day=F("day") - a_day
    )
    assert answer(tablet_a.pin(colin.member_number, "4711")) == ("granted", "ok")


def test_lockout_rows_are_purged_once_their_window_and_lock_are_over(tablet_a, colin):
    from access.services import purge_pin_lockouts

    for _ in range(5):
        tablet_a.pin(colin.member_number, "1357")
    now = timezone.now()
    assert purge_pin_lockouts(at=now) == 0  # locked: kept
    assert purge_pin_lockouts(at=now + timedelta(minutes=16)) == 1  # the member number's row; the device's waits
    assert not PinLockout.objects.filter(device=None).exists()

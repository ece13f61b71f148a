"""Doors, device tokens, access events and occupancy in the admin, through the permission matrix."""

from __future__ import annotations

import re

from access.models import AccessEvent, DeviceToken
from access.selectors import hash_device_token
from justface.models import AuditEntry
from members.services import set_pin
from tests.access.conftest import pair_tablet
from tests.conftest import face_photo, make_member
from tests.permissions import assert_matrix

DOORS = "/admin/access/door/"
TOKENS = "/admin/access/devicetoken/"
VISITS = "/admin/access/visit/"


def test_door_list_matrix(login, tablet_a, tablet_b):
    responses = assert_matrix(
        login, "get", DOORS, {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 200, "anonymous": 302}
    )
    assert (
        "Alpha One" in responses["manager_a"].content.decode()
        and "Beta One" not in responses["manager_a"].content.decode()
    )
    assert "Alpha One" not in responses["manager_b"].content.decode()


def test_a_manager_adds_a_door_and_sees_its_token_once(login, world):
    response = login("manager_a").post(
        f"{DOORS}add/",
        {
            "centre": world.centre_a1.pk,
            "name": "Side entrance",
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
            "tokens-MIN_NUM_FORMS": "0",
            "tokens-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'<code class="device-token">([^<]+)</code>', response.content.decode()).group(1)
    device = DeviceToken.objects.get(door__name="Side entrance")
    assert device.token_hash == hash_device_token(token) and token not in str(DeviceToken.objects.values())
    assert AuditEntry.objects.filter(
        action="door.token_issue", object_id=str(device.pk), actor_id=world.user("manager_a").pk
    ).exists()
    heartbeat = login("anonymous").post(
        "/api/v1/door/heartbeat/", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Device {token}"
    )
    assert heartbeat.status_code == 200 and heartbeat.json()["door"] == "Side entrance"


def test_only_the_chains_managers_can_issue_tokens(login, tablet_a, tablet_b):
    door = tablet_a.device.door
    before = DeviceToken.objects.count()
    for name in ("frontdesk_a", "dpo_a", "manager_b"):
        login(name).post(DOORS, {"action": "issue_token", "_selected_action": [door.pk]})
        assert DeviceToken.objects.count() == before, name
    page = login("manager_a").post(DOORS, {"action": "issue_token", "_selected_action": [door.pk]})
    assert page.status_code == 200 and DeviceToken.objects.count() == before + 1


def test_revoking_a_token_refuses_the_tablet_at_once(login, tablet_a, tablet_b):
    login("manager_b").post(TOKENS, {"action": "revoke", "_selected_action": [tablet_a.device.pk]})
    assert tablet_a.heartbeat().status_code == 200  # another chain's manager cannot touch it
    response = login("manager_a").post(
        TOKENS, {"action": "revoke", "_selected_action": [tablet_a.device.pk]}, follow=True
    )
    assert "1 token(s) revoked" in response.content.decode()
    assert tablet_a.heartbeat().status_code == 401
    assert AuditEntry.objects.filter(action="door.token_revoke", object_id=str(tablet_a.device.pk)).count() == 1


def test_access_events_are_read_only_and_scoped(login, tablet_a, tablet_b, colin):
    tablet_a.pin(colin.member_number, "4711")
    event = AccessEvent.objects.get()
    url = f"/admin/access/accessevent/{event.pk}/change/"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 302, "anonymous": 302}
    )
    assert 'name="_save"' not in responses["manager_a"].content.decode()
    assert login("manager_a").post(url, {"reason": "edited"}).status_code == 403
    assert AccessEvent.objects.get().reason == "ok"


def test_live_occupancy_per_centre(login, tablet_a, tablet_b, colin, world):
    other = make_member(world.chain_a, world.centre_a2)
    set_pin(member=other, pin="2580", actor=None)
    tablet_a.pin(colin.member_number, "4711")
    pair_tablet(world.centre_a2).pin(other.member_number, "2580")
    tablet_a.pin(other.member_number, "2580", direction="out")

    def inside(page) -> dict:
        rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"inside\">(\d+)</td></tr>", page.content.decode())
        return {centre: int(n) for centre, n in rows}

    responses = assert_matrix(
        login,
        "get",
        f"{VISITS}?inside=yes",
        {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 200, "anonymous": 302},
    )
    assert inside(responses["manager_a"]) == {"Alpha One": 1, "Alpha Two": 0}
    assert inside(responses["frontdesk_a"]) == {"Alpha One": 1}
    assert inside(responses["manager_b"]) == {"Beta One": 0}
    assert "1 visit" in responses["manager_a"].content.decode()


def test_staff_see_a_kept_door_photo_and_every_look_is_audited(login, tablet_a, tablet_b, colin, world):
    tablet_a.scan(face_photo("Colin_Powell", 2))
    event = AccessEvent.objects.get()
    url = f"/admin/access/accessevent/{event.pk}/frame/"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 404, "anonymous": 302}
    )
    photo = responses["manager_a"]
    assert photo["Content-Type"] == "image/jpeg" and "no-store" in photo["Cache-Control"]
    assert photo.content == face_photo("Colin_Powell", 2)
    assert AuditEntry.objects.filter(action="door_photo.view", object_id=str(event.pk)).count() == 3
    assert 'src="frame/"' in login("manager_a").get(f"/admin/access/accessevent/{event.pk}/change/").content.decode()
    tablet_a.pin(colin.member_number, "4711", direction="out")
    assert login("manager_a").get(url).status_code == 404  # gone at check-out

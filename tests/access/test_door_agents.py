"""Door agents, server side: signed open commands for granted entries only, at the
scan's own door only; the agent API (long poll, reports) through the real API; door states
and alarms; scoping; revocation; the tablet's token never reaches a command.

The signature is checked here with `cryptography` directly (Ed25519 over the payload bytes, as
docs/door-agent.md describes it); tests/access/test_door_end_to_end.py runs the agent's own
verifier and drivers against the live server."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import threading
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from access import door_agents, door_signing, services
from access.models import AccessEvent, DeviceToken, Door, DoorAgent, DoorCommand, DoorEvent
from members.services import set_pin
from tests.access.conftest import pair_tablet
from tests.conftest import make_member


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.JUSTFACE_DOOR_SIGNING_KEY = ""
    return settings.DATA_DIR


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(command: dict) -> dict:
    """What an agent paired with the server's public key does first: the signature over the
    payload bytes (raises InvalidSignature), then parse."""
    kid, public = door_signing.public_key_from_text(door_signing.signing_key().public_text)
    assert command["kid"] == kid
    data = unb64url(command["payload"])
    public.verify(unb64url(command["signature"]), data)
    return json.loads(data)


class Agent:
    def __init__(self, door: Door):
        self.row, self.token = services.issue_door_agent(door=door, actor=None)
        self.client = Client()

    @property
    def auth(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Agent {self.token}"}

    def poll(self, wait="0"):
        return self.client.get("/api/v1/agent/commands/", {"wait": wait}, **self.auth)

    def report(self, *events, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps({"events": list(events)})
        return self.client.post("/api/v1/agent/reports/", body, content_type="application/json", **self.auth)


@pytest.fixture
def pia(world, tablet_a):
    member = make_member(world.chain_a, world.centre_a1, first_name="Pia")
    set_pin(member=member, pin="2580", actor=None)
    return member


@pytest.fixture
def agent_a(tablet_a) -> Agent:
    return Agent(tablet_a.device.door)


def granted(tablet, member, direction=None) -> AccessEvent:
    response = tablet.pin(member.member_number, "2580", direction=direction)
    assert response.status_code == 200 and response.json()["status"] == "granted", response.content
    return AccessEvent.objects.latest("pk")


def test_a_granted_pin_entry_queues_one_signed_command_for_its_own_door_only(tablet_a, agent_a, pia, world):
    other_door = Agent(Door.objects.create(centre=world.centre_a1, name="Back door"))
    event = granted(tablet_a, pia)
    body = agent_a.poll().json()
    assert len(body["commands"]) == 1
    payload = verify(body["commands"][0])
    assert payload["v"] == 1 and payload["type"] == "open"
    assert payload["door"] == str(tablet_a.device.door_id) and payload["event"] == event.pk
    assert payload["not_after"] - payload["issued_at"] == pytest.approx(5)
    assert 200 <= payload["open_ms"] <= 30000 and len(payload["nonce"]) == 32
    # Delivered once; the other door's agent never sees it.
    assert agent_a.poll().json() == {"commands": []}
    assert other_door.poll().json() == {"commands": []}
    # A check-out granted at the door opens it too (the person passes the same door).
    granted(tablet_a, pia, direction="out")
    assert verify(agent_a.poll().json()["commands"][0])["event"] == AccessEvent.objects.latest("pk").pk


def test_a_tampered_command_fails_verification(tablet_a, agent_a, pia):
    granted(tablet_a, pia)
    command = agent_a.poll().json()["commands"][0]
    payload = json.loads(unb64url(command["payload"]))
    payload["door"] = "999"
    forged = {**command, "payload": door_signing.b64url(door_signing.canonical(payload))}
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        verify(forged)


def test_a_denied_entry_never_signs_anything(tablet_a, agent_a, pia, world):
    assert tablet_a.pin(pia.member_number, "0000").json()["status"] == "denied"
    assert tablet_a.pin("NO-SUCH-NUMBER", "2580").json()["status"] == "denied"
    closed = make_member(world.chain_a, world.centre_a1, status="ended")
    set_pin(member=closed, pin="2580", actor=None)
    assert tablet_a.pin(closed.member_number, "2580").json()["status"] == "denied"
    assert DoorCommand.objects.count() == 0
    assert agent_a.poll().json() == {"commands": []}


def test_no_agent_or_a_revoked_one_means_no_command(tablet_a, pia):
    granted(tablet_a, pia)
    assert DoorCommand.objects.count() == 0
    agent = Agent(tablet_a.device.door)
    services.revoke_door_agent(agent=agent.row, actor=None)
    granted(tablet_a, pia)
    assert DoorCommand.objects.count() == 0
    assert agent.poll().status_code == 401


def test_a_revoked_agent_gets_401_and_nothing_even_if_a_command_waits(tablet_a, agent_a, pia):
    granted(tablet_a, pia)
    services.revoke_door_agent(agent=agent_a.row, actor=None)
    response = agent_a.poll()
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert DoorCommand.objects.get().claimed_at is None


def test_the_tablet_token_never_reaches_a_command(tablet_a, agent_a, pia):
    """Every door endpoint with the device token shows no command; every agent endpoint refuses it."""
    scan_poll = tablet_a.pin(pia.member_number, "2580")
    command = DoorCommand.objects.get()
    secrets_ = (command.payload, command.signature, command.nonce)
    responses = [
        scan_poll,
        tablet_a.poll(scan_poll.json()["id"]),
        tablet_a.heartbeat(app_version="1"),
        tablet_a.client.get("/api/v1/door/scans/", **tablet_a.auth),
    ]
    # And every route of the tablet API, with GET and POST, whatever it answers.
    from access import api_urls

    scan_id = scan_poll.json()["id"]
    for route in api_urls.urlpatterns:
        url = "/api/v1/door/" + str(route.pattern).replace("<str:scan_id>", scan_id)
        responses.append(tablet_a.client.get(url, **tablet_a.auth))
        responses.append(tablet_a.client.post(url, {}, content_type="application/json", **tablet_a.auth))
    assert len(api_urls.urlpatterns) >= 6
    for response in responses:
        assert response.status_code < 500
        assert not any(s in response.content.decode() for s in secrets_)
    for header in (f"Device {tablet_a.token}", f"Agent {tablet_a.token}", f"agent {agent_a.token}", "Agent "):
        auth = {"HTTP_AUTHORIZATION": header}
        assert Client().get("/api/v1/agent/commands/", {"wait": 0}, **auth).status_code == 401
        assert Client().post("/api/v1/agent/reports/", "{}", content_type="application/json", **auth).status_code == 401
    # The agent's credential is no tablet's either.
    assert Client().post("/api/v1/door/heartbeat/", {}, HTTP_AUTHORIZATION=f"Device {agent_a.token}").status_code == 401
    assert DoorCommand.objects.get().claimed_at is None


def test_another_chains_agent_sees_and_changes_nothing(tablet_a, tablet_b, agent_a, pia):
    agent_b = Agent(tablet_b.device.door)
    event = granted(tablet_a, pia)
    assert agent_b.poll().json() == {"commands": []}
    nonce = DoorCommand.objects.get().nonce
    assert agent_b.report({"type": "relay", "nonce": nonce, "event": event.pk, "at": time.time()}).json() == {
        "accepted": 0
    }
    assert agent_b.report({"type": "contact", "state": "open", "at": time.time()}).status_code == 200
    assert not DoorEvent.objects.filter(door=tablet_a.device.door).exists()
    event.refresh_from_db()
    assert event.door_opened_at is None
    assert len(agent_a.poll().json()["commands"]) == 1


def test_relay_report_sets_door_opened_at_and_contact_gives_opened(tablet_a, agent_a, pia):
    event = granted(tablet_a, pia)
    payload = verify(agent_a.poll().json()["commands"][0])
    now = time.time()
    wrong = agent_a.report({"type": "relay", "nonce": "0" * 32, "event": event.pk, "at": now})
    assert wrong.json() == {"accepted": 0}
    assert agent_a.report(
        {"type": "relay", "nonce": payload["nonce"], "event": event.pk, "at": now},
        {"type": "contact", "state": "open", "at": now + 0.5},
    ).json() == {"accepted": 2}
    event.refresh_from_db()
    assert abs(event.door_opened_at.timestamp() - now) < 0.01
    opened = DoorEvent.objects.get()
    assert (opened.kind, opened.access_event) == (DoorEvent.Kind.OPENED, event)
    agent_a.report({"type": "contact", "state": "closed", "at": now + 3})
    assert DoorEvent.objects.get().closed_at is not None
    assert mail.outbox == []


def test_contact_open_without_a_grant_is_forced_open_and_mails_the_managers_once(
    tablet_a, agent_a, world, django_capture_on_commit_callbacks
):
    world.users["manager_a"].email = "boss@alpha.example"
    world.users["manager_a"].save()
    world.users["manager_b"].email = "boss@beta.example"
    world.users["manager_b"].save()
    now = time.time()
    with django_capture_on_commit_callbacks(execute=True):
        agent_a.report({"type": "contact", "state": "open", "at": now})
        agent_a.report({"type": "contact", "state": "closed", "at": now + 1})
        agent_a.report({"type": "contact", "state": "open", "at": now + 2})
    kinds = list(DoorEvent.objects.order_by("at").values_list("kind", flat=True))
    assert kinds == ["forced_open", "forced_open"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@alpha.example"]  # throttled, own chain only


def test_held_open_and_agent_offline_come_from_the_sweep(tablet_a, agent_a, pia, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    granted(tablet_a, pia)
    agent_a.report({"type": "heartbeat", "at": start.timestamp(), "version": "1.0", "driver": "mqtt"})
    agent_a.report({"type": "contact", "state": "open", "at": start.timestamp()})
    assert door_agents.sweep(at=start + timedelta(seconds=29)) == {"held_open": 0, "agent_offline": 0}
    assert door_agents.sweep(at=start + timedelta(seconds=31)) == {"held_open": 1, "agent_offline": 0}
    assert door_agents.sweep(at=start + timedelta(seconds=40)) == {"held_open": 0, "agent_offline": 0}
    assert door_agents.sweep(at=start + timedelta(seconds=91)) == {"held_open": 0, "agent_offline": 1}
    assert door_agents.sweep(at=start + timedelta(seconds=200)) == {"held_open": 0, "agent_offline": 0}
    kinds = set(DoorEvent.objects.values_list("kind", flat=True))
    assert kinds == {"opened", "held_open", "agent_offline"}
    # Back online: one event, and the next silence is reported again.
    time_machine.move_to(start + timedelta(seconds=210), tick=False)
    agent_a.report({"type": "heartbeat", "at": time.time(), "version": "1.0", "driver": "mqtt"})
    assert DoorEvent.objects.filter(kind="agent_online").count() == 1
    assert door_agents.sweep(at=start + timedelta(seconds=400))["agent_offline"] == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b'{"events": "x"}', "events"),
        (b"[1, 2]", "events"),
        (b'{"events": [' + b"[" * 40 + b"]" * 40 + b"]}", "nested"),
        (b'{"events": [{"type": "contact", "state": "open\\u0000", "at": 1}]}', "NUL"),
        (b'{"events": [{"type": "contact", "state": "ajar", "at": 1700000000}]}', "state"),
        (b'{"events": [{"type": "contact", "state": "open", "at": "now"}]}', "at"),
        (b'{"events": [{"type": "contact", "state": "open", "at": true}]}', "at"),
        (b'{"events": [{"type": "relay", "nonce": 5, "event": 1, "at": 1700000000}]}', "nonce"),
        (b'{"events": [{"type": "relay", "nonce": "' + b"a" * 32 + b'", "event": 1e400, "at": 1700000000}]}', ""),
        (b'{"events": [{"type": "relay", "nonce": "' + b"a" * 32 + b'", "event": 99999999999999999999, "at": 1}]}', ""),
        (b'{"events": [{"type": "heartbeat", "at": 1700000000, "version": {"a": 1}}]}', "version"),
        (b'{"events": [{"type": "boom", "at": 1700000000}]}', "type"),
        (b'{"events": [' + b'{"type": "heartbeat", "at": 1700000000},' * 101 + b"1]}", "At most"),
        (b'{"events": ["' + b"x" * 70000 + b'"]}', "bytes"),
        (b"\xff\xfe", ""),
    ],
)
def test_bad_reports_are_400_with_a_detail(agent_a, body, fragment):
    response = agent_a.report(raw=body)
    assert response.status_code == 400, response.content
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize("wait", ["abc", "-1", "26", "nan", "inf", "1e999", ""])
def test_a_bad_wait_is_400(agent_a, wait):
    response = agent_a.poll(wait)
    assert response.status_code == 400 and "wait" in response.json()["detail"]


def test_the_long_poll_holds_until_wait_and_answers_empty(agent_a):
    started = time.monotonic()
    assert agent_a.poll("1").json() == {"commands": []}
    assert 1.0 <= time.monotonic() - started < 3


@pytest.mark.django_db(transaction=True)
def test_a_held_poll_is_woken_by_a_grant_through_a_real_server(live_server, world):
    """Two real HTTP clients against a live server: the agent's held request returns the command
    as soon as the tablet's PIN entry is granted, well before `wait` runs out."""
    import requests

    centre = world.centre_a1
    centre.opening_hours = {}
    centre.save()
    tablet = pair_tablet(centre)
    member = make_member(world.chain_a, centre, first_name="Pia")
    set_pin(member=member, pin="2580", actor=None)
    _, token = services.issue_door_agent(door=tablet.device.door, actor=None)
    got = {}

    def hold():
        started = time.monotonic()
        got["response"] = requests.get(
            f"{live_server.url}/api/v1/agent/commands/",
            params={"wait": 10},
            headers={"Authorization": f"Agent {token}"},
            timeout=20,
        )
        got["seconds"] = time.monotonic() - started

    waiter = threading.Thread(target=hold)
    waiter.start()
    time.sleep(0.5)
    answer = requests.post(
        f"{live_server.url}/api/v1/door/pin/",
        json={"member_number": member.member_number, "pin": "2580"},
        headers={"Authorization": f"Device {tablet.token}"},
        timeout=20,
    )
    assert answer.json()["status"] == "granted"
    waiter.join(20)
    assert got["response"].status_code == 200
    (command,) = got["response"].json()["commands"]
    assert verify(command)["event"] == AccessEvent.objects.get().pk
    assert got["seconds"] < 5


DOORS = "/admin/access/door/"
AGENTS = "/admin/access/dooragent/"


def test_only_the_chains_managers_pair_an_agent_and_see_its_credential_once(login, tablet_a, tablet_b, world):
    import re

    from access.selectors import hash_device_token
    from justface.models import AuditEntry

    door = tablet_a.device.door
    for name in ("frontdesk_a", "dpo_a", "manager_b"):
        login(name).post(DOORS, {"action": "issue_agent", "_selected_action": [door.pk]})
    assert not DoorAgent.objects.exists()
    page = login("manager_a").post(DOORS, {"action": "issue_agent", "_selected_action": [door.pk]})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    token = re.search(r'<code class="agent-token">([^<]+)</code>', html).group(1)
    public = re.search(r'<code class="server-public-key">([^<]+)</code>', html).group(1)
    assert public == door_signing.signing_key().public_text
    agent = DoorAgent.objects.get()
    assert agent.door == door and agent.token_hash == hash_device_token(token)
    assert AuditEntry.objects.filter(action="door.agent_issue", object_id=str(agent.pk)).exists()
    # Listed for its own chain only; revoked by its own chain only, at once.
    assert "Main entrance" in login("manager_a").get(AGENTS).content.decode()
    assert "Main entrance" not in login("manager_b").get(AGENTS).content.decode()
    auth = {"HTTP_AUTHORIZATION": f"Agent {token}"}
    login("manager_b").post(AGENTS, {"action": "revoke", "_selected_action": [agent.pk]})
    assert Client().get("/api/v1/agent/commands/", {"wait": 0}, **auth).status_code == 200
    login("manager_a").post(AGENTS, {"action": "revoke", "_selected_action": [agent.pk]})
    assert Client().get("/api/v1/agent/commands/", {"wait": 0}, **auth).status_code == 401
    assert AuditEntry.objects.filter(action="door.agent_revoke", object_id=str(agent.pk)).count() == 1


def test_door_events_are_read_only_and_scoped_in_the_admin(login, tablet_a, tablet_b, agent_a):
    agent_a.report({"type": "contact", "state": "open", "at": time.time()})
    event = DoorEvent.objects.get()
    url = f"/admin/access/doorevent/{event.pk}/change/"
    assert login("manager_a").get(url).status_code == 200
    assert login("manager_b").get(url).status_code == 302
    assert login("manager_a").post(url, {"kind": "opened"}).status_code == 403
    assert DoorEvent.objects.get().kind == "forced_open"


def test_door_commands_go_a_day_after_they_were_made(tablet_a, agent_a, pia):
    from retention.jobs import purge_due

    granted(tablet_a, pia)
    made = DoorCommand.objects.get().created_at
    assert purge_due(at=made + timedelta(hours=23))["door_commands_deleted"] == 0
    assert purge_due(at=made + timedelta(hours=25))["door_commands_deleted"] == 1
    assert AccessEvent.objects.count() == 1 and not DoorCommand.objects.exists()


def test_erasing_a_member_leaves_door_events_naming_no_one(tablet_a, agent_a, pia):
    from retention.services import erase_member

    event = granted(tablet_a, pia)
    agent_a.report({"type": "contact", "state": "open", "at": time.time()})
    assert DoorEvent.objects.get().access_event == event
    erase_member(member=pia, actor=None, reason="test")
    opened = DoorEvent.objects.select_related("access_event").get()
    assert opened.kind == "opened" and opened.access_event.member_id is None


def test_the_door_status_page_is_live_scoped_and_linked(login, tablet_a, tablet_b, agent_a, world):
    agent_a.report(
        {"type": "heartbeat", "at": time.time(), "version": "1", "driver": "mqtt"},
        {"type": "contact", "state": "open", "at": time.time()},
    )
    Agent(tablet_b.device.door)
    page = login("frontdesk_a").get("/staff/doors/")
    assert page.status_code == 200 and page["Refresh"] == "10"
    text = page.content.decode()
    assert "Alpha One – Main entrance" in text and "Beta One" not in text
    assert 'class="alarm"' in text  # the forced open
    assert "/staff/doors/" in login("frontdesk_a").get("/staff/").content.decode()
    other = login("manager_b").get("/staff/doors/").content.decode()
    assert "Alpha One" not in other and "Beta One – Main entrance" in other and 'class="alarm"' not in other
    assert login("anonymous").get("/staff/doors/").status_code in (302, 403)


def test_two_openings_for_one_grant_or_a_crowd_at_the_tablet_give_a_tailgating_hint(tablet_a, agent_a, pia):
    event = granted(tablet_a, pia)
    now = time.time()
    agent_a.report(
        {"type": "contact", "state": "open", "at": now},
        {"type": "contact", "state": "closed", "at": now + 2},
        {"type": "contact", "state": "open", "at": now + 3},
    )
    kinds = list(DoorEvent.objects.order_by("pk").values_list("kind", "access_event"))
    assert kinds == [("opened", event.pk), ("tailgating_hint", event.pk), ("opened", event.pk)]
    # The tablet refused a frame with two faces just before the grant that opened the door.
    DoorEvent.objects.all().delete()
    AccessEvent.objects.create(
        centre=tablet_a.device.door.centre,
        door=tablet_a.device.door,
        method="face",
        decision="denied",
        reason="multiple_faces",
    )
    second = granted(tablet_a, pia)
    agent_a.report({"type": "contact", "state": "open", "at": time.time() + 1})
    assert set(DoorEvent.objects.values_list("kind", "access_event")) == {
        ("opened", second.pk),
        ("tailgating_hint", second.pk),
    }


def test_the_access_report_shows_when_the_door_opened(tablet_a, agent_a, pia, login):
    event = granted(tablet_a, pia)
    nonce = verify(agent_a.poll().json()["commands"][0])["nonce"]
    agent_a.report({"type": "relay", "nonce": nonce, "event": event.pk, "at": time.time()})
    event.refresh_from_db()
    from access.reports import COLUMNS, _rows

    (row,) = list(_rows(AccessEvent.objects.filter(pk=event.pk), event.centre.chain_id))
    assert COLUMNS[-1][0] == "door_opened_at"
    assert row[-1] == timezone.localtime(event.door_opened_at).isoformat(timespec="seconds")


def test_when_every_held_poll_is_taken_an_agent_gets_429_retry_after_but_still_its_command(tablet_a, agent_a, pia):
    from access.api import agent as agent_api

    taken = []
    while agent_api._held.acquire(blocking=False):
        taken.append(1)
    try:
        busy = agent_a.poll("5")
        assert busy.status_code == 429 and busy["Retry-After"] == "1" and "Retry-After" in busy.json()["detail"]
        granted(tablet_a, pia)
        assert len(agent_a.poll("5").json()["commands"]) == 1
    finally:
        for _ in taken:
            agent_api._held.release()
    assert taken

"""A held poll is woken by a command queued in another process (PostgreSQL NOTIFY from another
connection), not only by its own process or its next look at the database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from access import door_agents, door_signing, door_wakeup, services
from access.models import AccessEvent, DoorCommand

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.JUSTFACE_DOOR_SIGNING_KEY = ""


def queue_without_waking(door) -> DoorCommand:
    """A command row as another process's decision writes it: nothing in this process is woken."""
    event = AccessEvent.objects.create(
        centre=door.centre, door=door, method="pin", decision="granted", reason="ok", direction="in"
    )
    now = timezone.now()
    signed = door_signing.signing_key().sign({"door": str(door.pk), "event": event.pk, "nonce": "0" * 32})
    return DoorCommand.objects.create(
        door=door,
        event=event,
        nonce="%032x" % event.pk,
        payload=signed["payload"],
        kid=signed["kid"],
        signature=signed["signature"],
        created_at=now,
        not_after=now + timedelta(seconds=5),
    )


def test_a_command_from_another_process_wakes_the_held_poll(tablet_a, monkeypatch):
    agent, _token = services.issue_door_agent(door=tablet_a.device.door, actor=None)
    postgresql = connection.vendor == "postgresql"
    # Looks at the database are rare here: only a wake-up can bring the command within a second.
    monkeypatch.setattr(door_agents, "POLL_EVERY", 10.0 if postgresql else 0.2)
    got: list = []

    def poll():
        started = time.monotonic()
        got.append((door_agents.wait_for_commands(agent=agent, wait=8), time.monotonic() - started))
        connection.close()

    thread = threading.Thread(target=poll)
    thread.start()
    deadline = time.monotonic() + 5
    while door_wakeup._thread is None and postgresql and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the poll has looked once and waits, the listener listens
    started = time.monotonic()
    command = queue_without_waking(tablet_a.device.door)
    if postgresql:
        import psycopg

        with psycopg.connect(**door_wakeup._params(), autocommit=True) as other:  # "another process"
            other.execute(f"NOTIFY {door_wakeup.CHANNEL}")
    thread.join(15)
    (found, _waited) = got[0]
    assert [c.pk for c in found] == [command.pk]
    assert time.monotonic() - started < 1.5  # not the 10 s look
    # The listener stops once no poll is held, so it holds no connection for nothing.
    deadline = time.monotonic() + 3
    while door_wakeup._thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert door_wakeup._thread is None and door_wakeup._waiting == 0

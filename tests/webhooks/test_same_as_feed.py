"""The webhooks and the events feed speak one vocabulary: the same event type names, and a
webhook's `data` is the feed's event without its `cursor` and `type`. Installed endpoints keep
their subscriptions under the new names (webhooks migration 0003)."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.test import Client

from access.models import Door, DoorEvent
from integration import keys
from integration.models import FeedEvent, Scope
from tests.consent.test_enrollment import consent_to_face_scan
from tests.webhooks.conftest import pin_member, receiver, subscribe  # noqa: F401
from webhooks import delivery, events
from webhooks.models import WebhookEndpoint

rename = importlib.import_module("webhooks.migrations.0003_feed_event_names")


def test_the_event_types_are_the_feeds_kinds():
    assert list(events.EVENT_TYPES) == FeedEvent.Kind.values


def test_each_webhook_carries_what_the_feed_shows(world, tablet_a, pin_member, receiver):
    subscribe(world.chain_a, receiver, *events.EVENT_TYPES)
    tablet_a.pin(pin_member.member_number, "4711")
    tablet_a.pin(pin_member.member_number, "0000")
    consent_to_face_scan(pin_member)
    DoorEvent.objects.create(door=Door.objects.create(centre=world.centre_a1, name="Side"), kind="held_open")
    delivery.pump(linger=0)
    sent = [r.payload for r in receiver.wait_for(4)]
    assert all(r.verified for r in receiver.received)

    _key, secret = keys.issue_key(chain=world.chain_a, scopes=[Scope.EVENTS_READ], label="t", actor=None)
    answer = Client().get("/api/v1/integration/events", HTTP_AUTHORIZATION=f"Bearer {secret}")
    feed = [{k: v for k, v in e.items() if k != "cursor"} for e in answer.json()["events"]]
    assert [e["type"] for e in feed] == ["access.check_in", "access.refused", "consent.given", "door.alarm"]
    assert sorted(({"type": p["type"], **p["data"]} for p in sent), key=str) == sorted(feed, key=str)


def test_installed_subscriptions_are_renamed(world):
    old = WebhookEndpoint.objects.create(
        chain=world.chain_a,
        url="https://93.184.215.14/hooks",
        secret="whsec_x",
        event_types=["access.granted", "access.refused", "door.forced_open", "door.held_open", "member.erased"],
    )
    untouched = WebhookEndpoint.objects.create(
        chain=world.chain_a, url="https://93.184.215.14/other", secret="whsec_y", event_types=["consent.given"]
    )
    rename.forwards(apps, None)
    old.refresh_from_db()
    untouched.refresh_from_db()
    assert old.event_types == ["access.check_in", "access.refused", "door.alarm", "erasure.member"]
    assert untouched.event_types == ["consent.given"]
    rename.backwards(apps, None)
    old.refresh_from_db()
    assert old.event_types == [
        "access.granted",
        "access.refused",
        "door.forced_open",
        "door.held_open",
        "door.agent_offline",
        "member.erased",
    ]

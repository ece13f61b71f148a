"""The chain's webhook endpoints through the integration API (scope `webhooks:manage`): made with
the secret answered once, changed, given a new secret, deleted, their deliveries listed without
bodies and replayed to a real receiver that verifies the signature; another chain's key finds
nothing, a key without the scope is refused, an address that is not public is refused."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from integration import keys
from integration.models import Scope
from justface.models import AuditEntry
from tests.webhooks.conftest import pin_member, receiver, subscribe  # noqa: F401
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint

API = "/api/v1/integration/webhooks"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class Key:
    def __init__(self, chain, scopes=(Scope.WEBHOOKS_MANAGE,)):
        self.key, self.raw = keys.issue_key(chain=chain, scopes=list(scopes), label="test", actor=None)
        self.client = Client()

    def call(self, method: str, path: str = "", body=None, **params):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.raw}"}
        send = getattr(self.client, method)
        if method == "get":
            return send(API + path, params, **headers)
        data = json.dumps(body) if body is not None else ""
        return send(API + path, data, content_type="application/json", **headers)


def test_make_list_change_and_delete_an_endpoint(world, receiver):
    key = Key(world.chain_a)
    made = key.call("post", body={"url": receiver.url(), "event_types": ["access.check_in", "door.alarm"]})
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    answer = made.json()
    assert answer["secret"].startswith("whsec_") and answer["event_types"] == ["access.check_in", "door.alarm"]
    endpoint = WebhookEndpoint.objects.get(pk=answer["id"])
    assert endpoint.chain == world.chain_a and endpoint.secret == answer["secret"]

    listed = key.call("get").json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint.pk]
    assert answer["secret"] not in json.dumps(listed) and "secret" not in listed[0]  # shown once
    assert "secret" not in key.call("get", f"/{endpoint.pk}").json()

    changed = key.call("patch", f"/{endpoint.pk}", {"event_types": ["erasure.member"], "enabled": False})
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["erasure.member"] and changed.json()["enabled"] is False
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["erasure.member"] and not endpoint.enabled

    rotated = key.call("post", f"/{endpoint.pk}/secret")
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != answer["secret"]
    endpoint.refresh_from_db()
    assert endpoint.secret == rotated.json()["secret"]

    assert key.call("delete", f"/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    done = AuditEntry.objects.filter(actor_kind="integration", actor_id=key.key.pk).values_list("action", flat=True)
    for action in ("webhook.create", "webhook.change", "webhook.disable", "webhook.rotate_secret", "webhook.delete"):
        assert action in done
    assert AuditEntry.objects.filter(action="integration_key.use", actor_id=key.key.pk).count() == 6


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://10.0.0.1/hooks", "event_types": ["access.check_in"]}, "address"),
        ({"url": "https://169.254.169.254/latest/", "event_types": ["access.check_in"]}, "address"),
        ({"url": "https://93.184.215.14/hooks", "event_types": ["access.granted"]}, "event_types"),
        ({"url": "https://93.184.215.14/hooks", "event_types": []}, "event types"),
        ({"event_types": ["access.check_in"]}, "url"),
    ],
)
def test_bad_input_is_refused_with_a_message(world, body, field):
    answer = Key(world.chain_a).call("post", body=body)
    assert answer.status_code == 400 and field in answer.json()["detail"].lower()
    assert "ErrorDetail" not in answer.json()["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(world):
    for body in (["https://93.184.215.14/"], "text"):
        answer = Key(world.chain_a).call("post", body=body)
        assert answer.status_code == 400 and answer.json()["detail"] == "Send a JSON object."
    assert not WebhookEndpoint.objects.exists()


def test_a_change_to_a_private_address_is_refused(world, receiver):
    endpoint = subscribe(world.chain_a, receiver, "access.check_in")
    answer = Key(world.chain_a).call("patch", f"/{endpoint.pk}", {"url": "https://127.0.0.1.nip.io/x"})
    assert answer.status_code == 400 and answer.json()["detail"]
    answer = Key(world.chain_a).call("patch", f"/{endpoint.pk}", {"url": "https://192.168.1.10/x"})
    assert answer.status_code == 400 and "address" in answer.json()["detail"]
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url()


def test_a_key_without_the_scope_is_refused(world, receiver):
    endpoint = subscribe(world.chain_a, receiver, "access.check_in")
    members_only = Key(world.chain_a, scopes=[Scope.MEMBERS_READ, Scope.MEMBERS_WRITE, Scope.EVENTS_READ])
    for method, path in [
        ("get", ""),
        ("post", ""),
        ("get", f"/{endpoint.pk}"),
        ("patch", f"/{endpoint.pk}"),
        ("delete", f"/{endpoint.pk}"),
        ("post", f"/{endpoint.pk}/secret"),
        ("get", f"/{endpoint.pk}/deliveries"),
        ("post", f"/{endpoint.pk}/deliveries/1/replay"),
    ]:
        answer = members_only.call(method, path, {"url": receiver.url(), "event_types": ["door.alarm"]})
        assert answer.status_code == 403 and "webhooks:manage" in answer.json()["detail"], (method, path)
    assert Client().get(API).status_code == 401
    endpoint.refresh_from_db()
    assert WebhookEndpoint.objects.count() == 1 and endpoint.event_types == ["access.check_in"]


def test_another_chains_key_sees_and_changes_nothing(world, tablet_a, pin_member, receiver):
    endpoint = subscribe(world.chain_a, receiver, "access.check_in")
    tablet_a.pin(pin_member.member_number, "4711")
    sent = WebhookDelivery.objects.get()
    secret = endpoint.secret
    theirs = Key(world.chain_b)
    assert theirs.call("get").json()["endpoints"] == []
    for method, path in [
        ("get", f"/{endpoint.pk}"),
        ("patch", f"/{endpoint.pk}"),
        ("delete", f"/{endpoint.pk}"),
        ("post", f"/{endpoint.pk}/secret"),
        ("get", f"/{endpoint.pk}/deliveries"),
        ("post", f"/{endpoint.pk}/deliveries/{sent.pk}/replay"),
    ]:
        assert theirs.call(method, path, {"enabled": False}).status_code == 404, (method, path)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.secret == secret and WebhookDelivery.objects.count() == 1


def test_deliveries_are_listed_without_bodies_and_replayed(world, tablet_a, pin_member, receiver):
    endpoint = subscribe(world.chain_a, receiver, "access.check_in")
    tablet_a.pin(pin_member.member_number, "4711")
    delivery.pump(linger=0)
    first = receiver.wait_for(1)[0]
    key = Key(world.chain_a)
    listed = key.call("get", f"/{endpoint.pk}/deliveries").json()["deliveries"]
    assert len(listed) == 1 and listed[0]["status"] == "delivered" and listed[0]["attempts"] == 1
    assert listed[0]["event_type"] == "access.check_in" and listed[0]["latency_ms"] is not None
    text = json.dumps(listed)
    assert pin_member.member_number not in text and "body" not in listed[0]
    assert key.call("get", f"/{endpoint.pk}/deliveries", limit="0").status_code == 400

    replayed = key.call("post", f"/{endpoint.pk}/deliveries/{listed[0]['id']}/replay")
    assert replayed.status_code == 202 and replayed.json()["replay_of"] == listed[0]["id"]
    delivery.pump(linger=0)
    again = receiver.wait_for(2)[1]
    assert again.verified and again.headers["webhook-id"] == first.headers["webhook-id"] and again.body == first.body
    assert [d["status"] for d in key.call("get", f"/{endpoint.pk}/deliveries").json()["deliveries"]] == [
        "delivered",
        "delivered",
    ]

    key.call("patch", f"/{endpoint.pk}", {"enabled": False})
    refused = key.call("post", f"/{endpoint.pk}/deliveries/{listed[0]['id']}/replay")
    assert refused.status_code == 400 and "Enable" in refused.json()["detail"]

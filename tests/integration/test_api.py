"""The integration API (/api/v1/integration/): keys and their scopes, members one by one and in
bulk, retries with an Idempotency-Key, the member and event feeds, bad input, rate limits, and
another chain's key that sees and changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from access.models import AccessEvent
from integration import keys
from integration.models import IntegrationKey, Scope
from justface.models import AuditEntry
from members.models import Member, member_number_hash
from tests.conftest import make_member

API = "/api/v1/integration"
ALL = [s.value for s in Scope]
BODY = {"first_name": "Sofie", "last_name": "Holm", "home_centre": "a1", "email": "sofie@example.com"}


def by_number(number: str):
    return Member.objects.filter(member_number_hash=member_number_hash(number))


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class Key:
    def __init__(self, chain, scopes=ALL):
        self.key, self.raw = keys.issue_key(chain=chain, scopes=scopes, label="test", actor=None)
        self.client = Client()

    def headers(self, **extra):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw}", **extra}

    def put(self, external_id, body, **extra):
        return self.client.put(
            f"{API}/members/{external_id}", json.dumps(body), content_type="application/json", **self.headers(**extra)
        )

    def bulk(self, body, content_type="application/json", **extra):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(f"{API}/members/bulk", data, content_type=content_type, **self.headers(**extra))

    def get(self, path, **params):
        return self.client.get(f"{API}/{path}", params, **self.headers())


@pytest.fixture
def key_a(world):
    return Key(world.chain_a)


@pytest.fixture
def key_b(world):
    return Key(world.chain_b)


def test_create_integration_key_prints_the_key_on_stdout_only(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_integration_key", chain="alpha", scopes="members:write,events:read", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = keys.key_for(raw)
    assert key.chain == world.chain_a and key.scopes == ["events:read", "members:write"]
    assert raw not in err.getvalue() and f"#{key.pk}" in err.getvalue()
    assert key.key_hash != raw and raw not in json.dumps(list(IntegrationKey.objects.values()), default=str)
    with pytest.raises(CommandError):
        call_command("create_integration_key", chain="alpha", scopes="members:delete", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command("create_integration_key", chain="nowhere", scopes="members:write", stdout=out, stderr=err)


def test_put_creates_then_answers_unchanged_and_audits_by_key(world, key_a):
    first = key_a.put("EXT-1", BODY)
    assert first.status_code == 201 and first.json()["outcome"] == "created"
    second = key_a.put("EXT-1", BODY)
    assert second.status_code == 200 and second.json()["outcome"] == "unchanged"
    member = Member.objects.get(pk=first.json()["member_id"])
    writes = AuditEntry.objects.filter(object_id=str(member.pk), action__in=["member.add", "member.change"])
    assert [(e.actor_kind, e.actor_id) for e in writes] == [("integration", key_a.key.pk)]
    uses = AuditEntry.objects.filter(action="integration_key.use", actor_id=key_a.key.pk)
    assert uses.count() == 2 and all(key_a.raw not in e.reason for e in uses)
    key_a.key.refresh_from_db()
    assert key_a.key.last_used_at is not None


def test_put_answers_a_bad_field_with_400_and_its_name(world, key_a):
    response = key_a.put("EXT-1", {**BODY, "birth_date": "yesterday"})
    assert response.status_code == 400
    assert response.json()["field"] == "birth_date" and "birth_date" in response.json()["detail"]
    assert key_a.put("EXT-1", ["not", "an", "object"]).status_code == 400
    assert key_a.put("EXT-1", {**BODY, "external_id": "EXT-2"}).status_code == 400  # path and body disagree
    assert key_a.put("EXT-1", {**BODY, "external_id": 7}).status_code == 400
    assert not Member.objects.exists()


def test_bulk_json_and_ndjson_answer_every_row(world, key_a):
    rows = [
        {"external_id": "B-1", **BODY},
        {"external_id": "B-2", **BODY, "home_centre": "b1"},
        "not an object",
        {**BODY},
    ]
    answer = key_a.bulk(rows)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "error", "error", "error"]
    assert results[1]["field"] == "home_centre" and results[3]["field"] == "external_id"
    assert answer.json()["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "error": 3}
    ndjson = "\n".join(
        [
            json.dumps({"external_id": "B-1", **BODY, "last_name": "Berg"}),
            "{oops",
            json.dumps({"external_id": "B-3", **BODY}),
        ]
    )
    answer = key_a.bulk(ndjson, content_type="application/x-ndjson")
    assert [r["outcome"] for r in answer.json()["results"]] == ["updated", "error", "created"]
    assert "Line 2" in answer.json()["results"][1]["message"]
    assert Member.objects.filter(chain=world.chain_a).count() == 2


def test_idempotency_key_makes_a_bulk_request_safe_to_retry(world, key_a):
    rows = [{"external_id": f"I-{n}", **BODY, "email": f"i{n}@example.com"} for n in range(3)]
    first = key_a.bulk(rows, HTTP_IDEMPOTENCY_KEY="nightly-2026-12-05")
    by_number("I-0").update(membership_type="changed meanwhile")
    again = key_a.bulk(rows, HTTP_IDEMPOTENCY_KEY="nightly-2026-12-05")
    assert again.status_code == 200 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert AuditEntry.objects.filter(action="member.add").count() == 3  # nothing written twice
    assert by_number("I-0").get().membership_type == "changed meanwhile"
    other = key_a.bulk(rows[:1], HTTP_IDEMPOTENCY_KEY="nightly-2026-12-05")
    assert other.status_code == 422 and "another body" in other.json()["detail"]
    # The same key of another chain is that chain's own.
    theirs = Key(world.chain_b).bulk(
        [{"external_id": "I-0", **BODY, "home_centre": "b1"}], HTTP_IDEMPOTENCY_KEY="nightly-2026-12-05"
    )
    assert theirs.status_code == 200 and theirs.json()["counts"]["created"] == 1


def test_member_feed_pages_the_chains_changes(world, key_a, key_b):
    for n in range(5):
        key_a.put(f"F-{n}", {**BODY, "email": f"f{n}@example.com"})
    make_member(world.chain_b, world.centre_b1, member_number="THEIRS")
    page = key_a.get("members", limit=3).json()
    assert [m["external_id"] for m in page["members"]] == ["F-0", "F-1", "F-2"] and page["has_more"]
    rest = key_a.get("members", cursor=page["next_cursor"], limit=3).json()
    assert [m["external_id"] for m in rest["members"]] == ["F-3", "F-4"] and not rest["has_more"]
    key_a.put("F-1", {"last_name": "Changed"})
    again = key_a.get("members", cursor=rest["next_cursor"]).json()
    assert [(m["external_id"], m["last_name"]) for m in again["members"]] == [("F-1", "Changed")]
    assert again["members"][0]["home_centre"] == "a1" and again["members"][0]["email"] == "f1@example.com"
    theirs = key_b.get("members").json()["members"]
    assert [m["external_id"] for m in theirs] == ["THEIRS"]
    listed = AuditEntry.objects.filter(action="member.list", actor_kind="integration", actor_id=key_a.key.pk)
    assert listed.count() == 3


def test_events_feed_has_ids_and_codes_never_scores(world, key_a, key_b):
    member = make_member(world.chain_a, world.centre_a1, member_number="EV-1")
    AccessEvent.objects.create(
        centre=world.centre_a1, member=member, method="face", decision="granted", reason="ok", score=0.87
    )
    AccessEvent.objects.create(centre=world.centre_a1, method="face", decision="denied", reason="not_recognised")
    events = key_a.get("events").json()["events"]
    assert [e["type"] for e in events] == ["access.check_in", "access.refused"]
    assert events[0]["external_id"] == "EV-1" and events[0]["member_id"] == member.pk
    assert events[1]["reason"] == "not_recognised" and "member_id" not in events[1]
    assert "0.87" not in json.dumps(events) and "score" not in json.dumps(events)
    assert key_b.get("events").json()["events"] == []


@pytest.mark.parametrize(
    "scopes, method, path",
    [
        (["members:read", "events:read"], "put", "members/X-1"),
        (["members:read", "events:read"], "post", "members/bulk"),
        (["members:write"], "get", "members"),
        (["members:write"], "get", "members/X-1"),
        (["members:write", "members:read"], "get", "events"),
    ],
)
def test_a_key_without_the_scope_is_refused(world, scopes, method, path):
    key = Key(world.chain_a, scopes=scopes)
    if method == "get":
        response = key.client.get(f"{API}/{path}", **key.headers())
    else:
        send = getattr(key.client, method)
        response = send(f"{API}/{path}", json.dumps(BODY), content_type="application/json", **key.headers())
    assert response.status_code == 403 and "scope" in response.json()["detail"]
    assert not Member.objects.exists()


def test_revoked_unknown_and_missing_keys_are_refused_everywhere(world, key_a):
    keys.revoke_key(key=key_a.key, actor=None)
    unknown = Client()
    for path, method in (("members/X-1", "put"), ("members/bulk", "post"), ("members", "get"), ("events", "get")):
        for headers in (key_a.headers(), {"HTTP_AUTHORIZATION": "Bearer jfi_unknown"}, {}):
            if method == "get":
                response = unknown.get(f"{API}/{path}", **headers)
            else:
                response = getattr(unknown, method)(f"{API}/{path}", "{}", content_type="application/json", **headers)
            assert response.status_code == 401, (path, headers)
    assert AuditEntry.objects.filter(action="integration_key.refused", actor_id=key_a.key.pk).count() == 4


def test_another_chains_key_changes_nothing_of_this_chain(world, key_a, key_b):
    ours = make_member(world.chain_a, world.centre_a1, member_number="OURS-1", first_name="Anne")
    # Chain B's key names chain A's member by number: that is a new member of chain B, never A's.
    assert key_b.put("OURS-1", {"first_name": "Mallory"}).json()["field"] == "last_name"
    response = key_b.put("OURS-1", {"first_name": "Mallory", "last_name": "X", "home_centre": "a1"})
    assert response.status_code == 400 and response.json()["field"] == "home_centre"  # not a centre of theirs
    key_b.bulk([{"external_id": "OURS-1", "first_name": "Mallory"}])
    ours.refresh_from_db()
    assert ours.first_name == "Anne"
    assert "OURS-1" not in json.dumps(key_b.get("members").json())


@pytest.mark.parametrize(
    "body, content_type",
    [
        ('{"first_name": "a\\u0000b"}', "application/json"),
        ("[" * 100 + "]" * 100, "application/json"),
        ("{not json", "application/json"),
        ("first_name=x", "application/x-www-form-urlencoded"),
    ],
)
def test_bad_bodies_are_4xx_never_500(world, key_a, body, content_type):
    response = key_a.client.put(f"{API}/members/X-1", body, content_type=content_type, **key_a.headers())
    assert 400 <= response.status_code < 500 and response.json()["detail"]
    response = key_a.client.post(f"{API}/members/bulk", body, content_type=content_type, **key_a.headers())
    assert 400 <= response.status_code < 500 and response.json()["detail"]


@override_settings(JUSTFACE_INTEGRATION_MAX_BODY_MB=1)
def test_a_huge_body_is_413(world, key_a):
    rows = [{"external_id": f"H-{n}", **BODY, "address": "x" * 200} for n in range(5000)]
    response = key_a.bulk(rows)
    assert response.status_code == 413 and response.json()["detail"]
    assert not Member.objects.exists()


def test_too_many_rows_and_bad_cursors_are_400(world, key_a):
    assert key_a.bulk([{"external_id": f"T-{n}"} for n in range(10_001)]).status_code == 400
    assert key_a.bulk([]).status_code == 400
    for params in ({"cursor": "abc"}, {"cursor": "-1"}, {"limit": "0"}, {"limit": "100000"}, {"cursor": "9" * 30}):
        assert key_a.get("members", **params).status_code == 400
        assert key_a.get("events", **params).status_code == 400


@override_settings(JUSTFACE_INTEGRATION_RATE="3/min")
def test_each_key_has_a_rate_limit(world, key_a, key_b):
    statuses = [key_a.get("events").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert key_b.get("events").status_code == 200  # per key


def test_request_log_lines_keep_the_endpoint_not_the_member_number(settings):
    import logging

    from justface.log_filters import MemberIdsOutOfPaths

    assert "member_ids_out_of_paths" in settings.LOGGING["handlers"]["console"]["filters"]
    for path in ("/api/v1/integration/members/EXT-77", "/api/v1/integration/members/EXT-77?x=1"):
        record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Bad Request: %s", (path,), None)
        MemberIdsOutOfPaths().filter(record)
        assert "EXT-77" not in record.getMessage() and "members/{external_id}" in record.getMessage()
    record = logging.LogRecord(
        "django.request", logging.WARNING, "", 0, "Bad Request: %s", ("/api/v1/integration/members/bulk",), None
    )
    MemberIdsOutOfPaths().filter(record)
    assert record.getMessage().endswith("members/bulk")


def test_get_one_member_by_external_id(world, key_a, key_b):
    created = key_a.put("G-1", {**BODY, "birth_date": "1991-02-03"}).json()
    answer = key_a.get("members/g-1")
    assert answer.status_code == 200
    assert answer.json()["member_id"] == created["member_id"] and answer.json()["birth_date"] == "1991-02-03"
    assert AuditEntry.objects.filter(action="member.view", actor_kind="integration", actor_id=key_a.key.pk).count() == 1
    assert key_b.get("members/G-1").status_code == 404  # another chain's key: no such member of theirs
    writer = Key(world.chain_a, scopes=["members:write"])
    assert writer.get("members/G-1").status_code == 403


def test_an_erasure_leaves_no_member_number_in_kept_answers_or_events(world, key_a):
    from integration.models import FeedEvent, IdempotentRequest
    from retention.services import erase_member

    key_a.bulk([{"external_id": "GONE-1", **BODY}, {"external_id": "STAYS-1", **BODY}], HTTP_IDEMPOTENCY_KEY="b1")
    gone = by_number("GONE-1").get()
    AccessEvent.objects.create(centre=world.centre_a1, member=gone, method="pin", decision="granted", reason="ok")
    receipt = erase_member(member=gone, actor=None, reason="test")
    # The check-in and the face erasure (which the whole erasure starts with) lose the number.
    assert receipt["integration_events_stripped"] == 2 and receipt["integration_answers_stripped"] == 1
    kept = json.dumps(list(IdempotentRequest.objects.values_list("response", flat=True)))
    assert "GONE-1" not in kept and "STAYS-1" in kept
    events = json.dumps(list(FeedEvent.objects.values_list("data", flat=True)))
    assert "GONE-1" not in events
    last = key_a.get("events").json()["events"][-1]
    assert (last["type"], last["member_id"]) == ("erasure.member", gone.pk)
    assert set(last) == {"cursor", "type", "occurred_at", "member_id"}


def test_consent_and_door_alarm_events(world, key_a):
    from access.models import Door, DoorEvent
    from consent.models import ConsentRecord
    from tests.consent.test_enrollment import consent_to_face_scan

    member = make_member(world.chain_a, world.centre_a1, member_number="C-1")
    consent_to_face_scan(member)
    signed = ConsentRecord.objects.get(member=member)
    ConsentRecord.objects.create(
        member=member, document=signed.document, action=ConsentRecord.Action.WITHDRAW, text_sha256=signed.text_sha256
    )
    door = Door.objects.create(centre=world.centre_a1, name="Main entrance")
    DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.FORCED_OPEN)
    DoorEvent.objects.create(door=door, kind=DoorEvent.Kind.CLOSED)  # not an alarm: not an event
    events = key_a.get("events").json()["events"]
    assert [e["type"] for e in events] == ["consent.given", "consent.withdrawn", "door.alarm"]
    assert (events[0]["external_id"], events[0]["document"], events[0]["version"]) == ("C-1", "biometric", 1)
    assert (events[2]["alarm"], events[2]["door_id"], events[2]["centre"]) == ("forced_open", door.pk, "a1")
    assert "typed_name" not in json.dumps(events) and member.full_name not in json.dumps(events)


def test_a_retry_after_a_request_that_died_carries_it_out(clock, world, key_a):
    from datetime import timedelta

    from integration import idempotency
    from integration.api.views import _canonical

    rows = [{"external_id": "D-1", **BODY}]
    # A request claimed the key and died before answering (its write rolled back with it).
    idempotency.claim(chain=world.chain_a, key="batch-9", request_hash=idempotency.body_hash(_canonical(rows)))
    assert key_a.bulk(rows, HTTP_IDEMPOTENCY_KEY="batch-9").status_code == 409
    clock.shift(timedelta(minutes=6))
    retried = key_a.bulk(rows, HTTP_IDEMPOTENCY_KEY="batch-9")
    assert retried.status_code == 200 and retried.json()["counts"]["created"] == 1
    assert key_a.bulk(rows, HTTP_IDEMPOTENCY_KEY="batch-9")["Idempotent-Replayed"] == "true"

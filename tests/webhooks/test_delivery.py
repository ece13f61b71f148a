"""Webhooks from real door decisions and consent records to a real receiver on loopback, whose
signature check is the Standard Webhooks reference library: signed and verified, only queued by
the door, retried with back-off, replayed, disabled after failing a day with an e-mail to the
managers, erased with the member, purged after their period."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from consent.models import ConsentDocument, ConsentRecord
from justface.models import AuditEntry
from retention.services import erase_member
from tests.access.conftest import consent_to_face_scan, withdraw_face_consent
from tests.conftest import make_member
from tests.webhooks.conftest import pin_member, receiver, subscribe  # noqa: F401
from webhooks import delivery, sending, services
from webhooks.models import WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status


def test_a_check_in_is_delivered_signed_and_the_reference_library_verifies_it(
    world, tablet_a, pin_member, receiver, django_capture_on_commit_callbacks
):
    subscribe(world.chain_a, receiver, "access.check_in", "access.refused")
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.pin(pin_member.member_number, "4711").json()["status"] == "granted"
    got = receiver.wait_for(1)[0]
    assert got.verified
    assert got.payload["type"] == "access.check_in"
    data = got.payload["data"]
    assert data["member_id"] == pin_member.pk and data["external_id"] == pin_member.member_number
    assert data["centre"] == "a1" and data["decision"] == "granted" and data["reason"] == "ok"
    text = got.body.decode()
    for personal in (pin_member.first_name, pin_member.last_name, pin_member.email, "score", "photo", "frame"):
        assert personal not in text  # ids and codes only
    sent = WebhookDelivery.objects.get()
    assert got.headers["webhook-id"] == sent.event_id and sent.event_id.startswith("msg_")
    assert sent.status == Status.DELIVERED and sent.attempts == 1 and sent.last_status == 200
    assert sent.latency_ms is not None and '"ok": true' in sent.response_excerpt


def test_a_refusal_carries_its_reason_code_and_a_wrong_secret_does_not_verify(
    world, tablet_a, pin_member, receiver, django_capture_on_commit_callbacks
):
    subscribe(world.chain_a, receiver, "access.refused")
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.pin(pin_member.member_number, "0000").json()["status"] == "denied"
    got = receiver.wait_for(1)[0]
    assert got.verified and got.payload["type"] == "access.refused" and got.payload["data"]["reason"] == "wrong_pin"
    receiver.secret = sending.new_secret()  # the receiver holds another secret: the check fails
    services.replay(delivery=WebhookDelivery.objects.get(), actor=None)
    delivery.pump(linger=0)
    assert receiver.wait_for(2)[1].verified is False


def test_the_door_only_queues_the_delivery(world, tablet_a, pin_member, receiver, django_capture_on_commit_callbacks):
    subscribe(world.chain_a, receiver, "access.check_in")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tablet_a.pin(pin_member.member_number, "4711").json()["status"] == "granted"
    # The decision is answered: the delivery is logged with it, nothing has been sent yet.
    assert WebhookDelivery.objects.get().status == Status.PENDING and receiver.received == []
    for callback in callbacks:
        callback()
    assert receiver.wait_for(1)[0].verified
    assert WebhookDelivery.objects.get().status == Status.DELIVERED


def test_unsubscribed_types_and_other_chains_get_nothing(world, tablet_a, pin_member, receiver):
    subscribe(world.chain_b, receiver, "access.check_in")  # chain B's endpoint
    subscribe(world.chain_a, receiver, "consent.given")  # chain A's, another type
    tablet_a.pin(pin_member.member_number, "4711")
    assert WebhookDelivery.objects.count() == 0


def test_consent_given_and_withdrawn(world, pin_member, receiver, django_capture_on_commit_callbacks):
    subscribe(world.chain_a, receiver, "consent.given", "consent.withdrawn")
    with django_capture_on_commit_callbacks(execute=True):
        consent_to_face_scan(pin_member)
        withdraw_face_consent(pin_member)
    got = receiver.wait_for(2)
    assert all(r.verified for r in got)
    assert sorted(r.payload["type"] for r in got) == ["consent.given", "consent.withdrawn"]
    given = next(r.payload["data"] for r in got if r.payload["type"] == "consent.given")
    record = ConsentRecord.objects.get(action="sign")
    assert given["consent_record_id"] == record.pk and given["document"] == ConsentDocument.Kind.BIOMETRIC
    assert given["member_id"] == pin_member.pk and given["version"] == 1


def test_a_500_is_retried_with_back_off_until_it_is_taken(clock, world, pin_member, receiver):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    receiver.answers = [(500, {}, 0), (503, {}, 0), (200, {}, 0)]
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status) == (Status.PENDING, 1, 500)
    assert timedelta(seconds=4) < sent.next_at - sent.created_at < timedelta(seconds=6)  # the first wait: 5 s
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.enabled
    assert delivery.pump(linger=0)["delivered"] == 0 and len(receiver.received) == 1  # not due yet
    clock.shift(timedelta(seconds=6))
    delivery.pump(linger=0)
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status) == (Status.PENDING, 2, 503)
    assert timedelta(minutes=4) < sent.next_at - timezone.now() <= timedelta(minutes=5)  # the second wait
    clock.shift(timedelta(minutes=5, seconds=1))
    assert delivery.pump(linger=0)["delivered"] == 1
    sent.refresh_from_db()
    endpoint.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status) == (Status.DELIVERED, 3, 200)
    assert endpoint.failing_since is None and endpoint.failed_in_a_row == 0
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1 and all(r.verified for r in receiver.received)  # one message id through its retries


def test_a_time_out_is_a_failed_attempt(world, pin_member, receiver, monkeypatch):
    subscribe(world.chain_a, receiver, "consent.given")
    receiver.answers = [(200, {}, 2)]  # answers after 2 s
    monkeypatch.setattr(sending, "TOTAL_SECONDS", 0.5)
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    assert sent.status == Status.PENDING and sent.attempts == 1 and sent.last_error == "timed out"
    assert sent.latency_ms < 2000


def test_a_delivery_is_replayed_from_the_admin_and_audited(
    world, login, pin_member, receiver, django_capture_on_commit_callbacks
):
    subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    first = WebhookDelivery.objects.get()
    url = reverse("admin:webhooks_webhookdelivery_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = login("manager_a").post(url, {"action": "replay", "_selected_action": [first.pk]})
    assert response.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert again.replay_of == first and again.event_id == first.event_id and again.status == Status.DELIVERED
    got = receiver.wait_for(2)
    assert got[1].verified and got[1].headers["webhook-id"] == first.event_id and got[1].body == got[0].body
    assert AuditEntry.objects.filter(action="webhook_delivery.replay", object_id=str(again.pk)).count() == 1
    # Chain B's manager cannot replay chain A's delivery: the action sees none of A's rows.
    with django_capture_on_commit_callbacks(execute=True):
        login("manager_b").post(url, {"action": "replay", "_selected_action": [first.pk]})
    assert WebhookDelivery.objects.count() == 2


def test_an_endpoint_failing_a_day_is_disabled_and_the_managers_are_told(
    clock, world, pin_member, receiver, django_capture_on_commit_callbacks
):
    manager = world.user("manager_a")
    manager.email = "manager@alpha.example"
    manager.save()
    endpoint = subscribe(world.chain_a, receiver, "consent.given", "consent.withdrawn")
    receiver.answers = [(500, {}, 0)]
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    for wait in delivery.BACKOFF:
        endpoint.refresh_from_db()
        assert endpoint.enabled
        clock.shift(wait + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            delivery.pump(linger=0)
    endpoint.refresh_from_db()
    sent = WebhookDelivery.objects.get()
    assert len(receiver.received) == delivery.ATTEMPTS == sent.attempts == 8
    assert sent.status == Status.FAILED
    assert not endpoint.enabled and endpoint.disabled_reason == WebhookEndpoint.DisabledReason.FAILING
    assert AuditEntry.objects.filter(action="webhook.auto_disable", object_id=str(endpoint.pk)).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["manager@alpha.example"]
    with translation.override("da"):  # chain A's language (the manager chose none)
        assert mail.outbox[0].subject == translation.gettext("Webhook endpoint disabled (%(chain)s)") % {
            "chain": "Alpha Fitness"
        }
    assert endpoint.url in mail.outbox[0].body
    withdraw_face_consent(pin_member)  # a disabled endpoint gets nothing more
    assert WebhookDelivery.objects.count() == 1
    services.set_enabled(endpoint=endpoint, enabled=True, actor=manager)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_too_many_dead_deliveries_in_a_row_disable_too(clock, world, pin_member, receiver, settings):
    settings.JUSTFACE_WEBHOOK_DISABLE_AFTER_HOURS = 1000
    settings.JUSTFACE_WEBHOOK_DISABLE_AFTER_FAILED = 2
    endpoint = subscribe(world.chain_a, receiver, "consent.given", "consent.withdrawn")
    receiver.answers = [(500, {}, 0)]
    consent_to_face_scan(pin_member)
    withdraw_face_consent(pin_member)
    delivery.pump(linger=0)
    for wait in delivery.BACKOFF:
        clock.shift(wait + timedelta(seconds=1))
        delivery.pump(linger=0)
    endpoint.refresh_from_db()
    assert endpoint.failed_in_a_row == 2 and not endpoint.enabled


def test_the_members_erasure_erases_their_bodies_and_tells_the_chain(
    world, pin_member, receiver, django_capture_on_commit_callbacks
):
    subscribe(world.chain_a, receiver, "consent.given", "erasure.member")
    other = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(pin_member)
    consent_to_face_scan(other)
    delivery.pump(linger=0)
    number = pin_member.member_number
    with django_capture_on_commit_callbacks(execute=True):
        receipt = erase_member(member=pin_member, actor=None, reason="test")
    assert receipt["webhook_bodies"] == 1
    erased = WebhookDelivery.objects.get(event_type="consent.given", body="")
    assert erased.member_id is None and erased.body_erased_at is not None
    assert WebhookDelivery.objects.get(event_type="consent.given", member_id=other.pk).body  # another member's stays
    told = [r for r in receiver.wait_for(3) if r.payload and r.payload["type"] == "erasure.member"]
    assert len(told) == 1 and told[0].verified
    assert told[0].payload["data"]["member_id"] == receipt["member_id"]
    assert "external_id" not in told[0].payload["data"]
    for row in WebhookDelivery.objects.all():  # nothing of the erased member's number stays
        assert number not in row.body and number not in row.response_excerpt


def test_pending_deliveries_about_an_erased_member_are_cancelled(world, pin_member, receiver):
    subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(pin_member)  # logged, not sent (no pump)
    erase_member(member=pin_member, actor=None, reason="test")
    assert WebhookDelivery.objects.get().status == Status.CANCELLED
    delivery.pump(linger=0)
    assert receiver.received == []


def test_bodies_and_rows_go_after_their_periods(clock, world, pin_member, receiver, settings):
    subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    assert delivery.purge_bodies()["bodies_erased"] == 0
    clock.shift(timedelta(days=settings.JUSTFACE_WEBHOOK_BODY_DAYS, seconds=1))
    assert delivery.purge_bodies()["bodies_erased"] == 1
    sent = WebhookDelivery.objects.get()
    assert sent.body == "" and sent.member_id is None and sent.status == Status.DELIVERED
    clock.shift(timedelta(days=settings.JUSTFACE_WEBHOOK_LOG_DAYS))
    assert delivery.purge_bodies()["rows_deleted"] == 1 and not WebhookDelivery.objects.exists()


def test_a_body_erased_cannot_be_replayed(world, pin_member, receiver):
    subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(pin_member)
    WebhookDelivery.objects.update(body="")
    with pytest.raises(Exception, match="erased"):
        services.replay(delivery=WebhookDelivery.objects.get(), actor=None)


def test_the_payload_is_the_signed_body(world, pin_member, receiver):
    subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(pin_member)
    delivery.pump(linger=0)
    got = receiver.wait_for(1)[0]
    assert json.loads(WebhookDelivery.objects.get().body) == got.payload


def test_a_batch_records_each_delivery_s_own_answer_and_leaves_a_cancelled_one(world, receiver):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    for n in range(4):
        services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": n})
    receiver.answers = [(200, {}, 0, b"one"), (201, {}, 0, b"two"), (202, {}, 0, b"three"), (500, {}, 0, b"down")]
    batch = delivery.claim()
    assert len(batch) == 4
    outcomes = [
        sending.post(url=d.endpoint.url, secret=d.endpoint.secret, msg_id=d.event_id, body=d.body.encode())
        for d in batch
    ]
    cancelled = next(d for d, o in zip(batch, outcomes, strict=True) if o.ok)
    WebhookDelivery.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)  # an erasure, meanwhile
    delivery.record_delivered([(d, o) for d, o in zip(batch, outcomes, strict=True) if o.ok])
    for d, o in zip(batch, outcomes, strict=True):
        if not o.ok:
            delivery.record_failed(delivery=d, outcome=o)
    rows = {d.pk: d for d in WebhookDelivery.objects.all()}
    assert rows[cancelled.pk].status == Status.CANCELLED and rows[cancelled.pk].attempts == 0
    answered = {
        (rows[d.pk].last_status, rows[d.pk].response_excerpt, rows[d.pk].latency_ms == o.latency_ms)
        for d, o in zip(batch, outcomes, strict=True)
        if o.ok and d.pk != cancelled.pk
    }
    assert len(answered) == 2 and all(same for _s, _e, same in answered)
    assert {(s, e) for s, e, _ in answered} < {(200, "one"), (201, "two"), (202, "three")}
    delivered = WebhookDelivery.objects.filter(status=Status.DELIVERED)
    assert delivered.count() == 2 and all(d.attempts == 1 and d.claim == "" and d.finished_at for d in delivered)
    failed = WebhookDelivery.objects.get(last_status=500)
    assert failed.status == Status.PENDING and failed.attempts == 1 and failed.next_at > timezone.now()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None  # the failure counted, the successes did not clear it after


def test_events_logged_in_one_transaction_queue_one_kick(world, receiver, django_capture_on_commit_callbacks):
    from django.db import transaction

    subscribe(world.chain_a, receiver, "consent.given")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": n})
    assert [c for c in callbacks if c is services.kick] == [services.kick]
    with django_capture_on_commit_callbacks() as callbacks:  # and each later transaction its own
        with transaction.atomic():
            services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": 6})
        with transaction.atomic():
            services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": 7})
    assert [c for c in callbacks if c is services.kick] == [services.kick, services.kick]


@pytest.mark.parametrize("rate", [4.0, 0.0])
def test_a_pump_keeps_to_the_configured_rate(world, receiver, settings, monkeypatch, rate):
    subscribe(world.chain_a, receiver, "consent.given")
    for n in range(12):
        services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": n})
    settings.JUSTFACE_WEBHOOK_RATE = rate
    waits: list[float] = []
    monkeypatch.setattr(delivery.time, "sleep", waits.append)  # what the pump would wait, not waited
    assert delivery.pump(linger=0)["delivered"] == 12
    assert receiver.wait_for(12)
    paced = [w for w in waits if w > delivery.GATHER_SECONDS]
    if rate:  # one batch of 12 at 4 a second: the rest of its 3 seconds
        assert len(paced) == 1 and 1.0 < paced[0] <= 3.0
    else:
        assert paced == []


@pytest.mark.parametrize("value", ["-1", "abc", "nan", "inf"])
def test_a_bad_rate_stops_the_start_with_one_line(value):
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=django_settings.BASE_DIR,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "JUSTFACE_WEBHOOK_RATE": value,
            "PATH": os.environ["PATH"],
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0 and "JUSTFACE_WEBHOOK_RATE must be 0" in out.stderr

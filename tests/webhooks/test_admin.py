"""Endpoints and their delivery log in the admin: a chain-A manager makes one and sees its secret
once (stored encrypted, never in clear), sees the log; the front desk, the DPO, chain B's manager
and anonymous see nothing of it. The create_webhook command prints the secret on stdout."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from justface.models import AuditEntry
from tests.access.conftest import consent_to_face_scan
from tests.conftest import make_member
from tests.webhooks.conftest import loopback_allowed, receiver, subscribe  # noqa: F401
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint

ENDPOINTS = "admin:webhooks_webhookendpoint_changelist"
DELIVERIES = "admin:webhooks_webhookdelivery_changelist"


def test_a_manager_makes_an_endpoint_and_sees_its_secret_once(world, login, loopback_allowed):
    client = login("manager_a")
    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://127.0.0.1:9/hooks", "description": "CRM", "event_types": ["access.check_in", "erasure.member"]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.chain == world.chain_a and endpoint.event_types == ["access.check_in", "erasure.member"]
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    with connection.cursor() as cursor:  # encrypted at rest: the column never holds the secret
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint")
        stored = cursor.fetchone()[0]
    assert endpoint.secret not in stored and endpoint.secret.removeprefix("whsec_") not in stored
    page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page  # never shown again
    assert AuditEntry.objects.filter(action="webhook.create", object_id=str(endpoint.pk)).count() == 1


def test_the_admin_refuses_a_private_url(world, login):
    response = login("manager_a").post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "https://169.254.169.254/latest/", "event_types": ["access.check_in"]},
    )
    assert response.status_code == 200 and "is not a public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("who", ["frontdesk_a", "dpo_a", "manager_b", "anonymous"])
def test_no_one_else_sees_chain_as_endpoints_or_deliveries(world, login, receiver, who):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    client = login(who)
    for url in (
        reverse(ENDPOINTS),
        reverse(DELIVERIES),
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_webhookdelivery_change", args=[sent.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403) or (who == "manager_b" and response.status_code == 200), url
        assert endpoint.url not in response.content.decode() and sent.event_id not in response.content.decode()


def test_chain_bs_manager_sees_only_chain_bs(world, login, receiver):
    mine = subscribe(world.chain_b, receiver, "consent.given", path="/b")
    theirs = subscribe(world.chain_a, receiver, "consent.given", path="/a")
    page = login("manager_b").get(reverse(ENDPOINTS)).content.decode()
    assert mine.url in page and theirs.url not in page


def test_the_manager_reads_the_delivery_log_and_it_is_audited(world, login, receiver):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    consent_to_face_scan(make_member(world.chain_a, world.centre_a1))
    delivery.pump(linger=0)
    sent = WebhookDelivery.objects.get()
    client = login("manager_a")
    page = client.get(reverse(DELIVERIES), {"endpoint__id__exact": endpoint.pk}).content.decode()
    assert sent.event_type in page and "200" in page
    detail = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[sent.pk])).content.decode()
    assert sent.event_id in detail
    assert AuditEntry.objects.filter(action="webhook_delivery.list").count() == 1
    assert AuditEntry.objects.filter(action="webhook_delivery.view", object_id=str(sent.pk)).count() == 1


def test_a_manager_disables_and_enables_an_endpoint(world, login, receiver):
    endpoint = subscribe(world.chain_a, receiver, "consent.given")
    client = login("manager_a")
    client.post(reverse(ENDPOINTS), {"action": "disable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "manual"
    client.post(reverse(ENDPOINTS), {"action": "enable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.enabled
    response = client.post(reverse(ENDPOINTS), {"action": "new_secret", "_selected_action": [endpoint.pk]})
    old = receiver.secret
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()


def test_create_webhook_prints_the_secret_on_stdout(world, loopback_allowed):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_webhook",
        "--chain=alpha",
        "--url=http://127.0.0.1:9/hooks",
        "--events=access.check_in,access.refused",
        stdout=out,
        stderr=err,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert out.getvalue().strip() == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.secret not in err.getvalue() and endpoint.event_types == ["access.check_in", "access.refused"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--chain=nope", "--url=https://93.184.215.14/", "--events=access.check_in"], "No chain"),
        (["--chain=alpha", "--url=https://10.0.0.1/", "--events=access.check_in"], "not a public address"),
        (["--chain=alpha", "--url=https://93.184.215.14/", "--events=door.opened"], "Choose event types"),
    ],
)
def test_create_webhook_refuses_bad_input_in_one_line(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_webhook", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not WebhookEndpoint.objects.exists()

"""/metrics of a web node: door decisions counted by centre, door, method and reason, open to the
monitoring network or the bearer token only."""

from __future__ import annotations

import pytest

from access.models import Scan
from monitoring import collectors
from monitoring.access import token_sha256
from tests.access.conftest import open_around_the_clock, pair_tablet
from tests.conftest import face_photo
from tests.monitoring.helpers import value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_collectors(monkeypatch):
    monkeypatch.setattr(collectors, "CACHE_SECONDS", 0.0)
    monkeypatch.setattr(collectors, "POPULATION_SECONDS", 0.0)


def scrape(client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_door_decisions_are_counted_by_door_method_and_reason(client, world, colin, tablet_a):
    door = {"chain": world.chain_a.pk, "centre": world.centre_a1.pk, "door": tablet_a.device.door_id}
    before = scrape(client)
    assert tablet_a.scan(face_photo("Colin_Powell", 2)).json()["reason"] == "ok"
    assert tablet_a.scan(face_photo("George_W_Bush", 1)).json()["reason"] == "not_recognised"
    assert tablet_a.pin(colin.member_number, "0000").json()["reason"] == "wrong_pin"
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    decisions = "justface_door_decisions_total"
    assert grew(decisions, **door, method="face", decision="granted", reason="ok") == 1
    assert grew(decisions, **door, method="face", decision="denied", reason="not_recognised") == 1
    assert grew(decisions, **door, method="pin", decision="denied", reason="wrong_pin") == 1
    assert grew("justface_door_request_seconds_count", **door, endpoint="door-scans") == 2
    assert grew("justface_door_request_seconds_count", **door, endpoint="door-pin") == 1
    assert grew("justface_door_stage_seconds_count", stage="frame_analysis") == 2
    assert grew("justface_door_stage_seconds_count", stage="gallery_search") >= 2
    assert grew("justface_liveness_passive_score_count", **door) >= 0
    assert value(after, "justface_members", chain=world.chain_a.pk, status="active") >= 1
    assert value(after, "justface_consents", chain=world.chain_a.pk, kind="biometric") == 1
    assert value(after, "justface_scans_open", chain=world.chain_a.pk) == 0


def test_database_state_is_read_at_scrape_time(client, world, tablet_a):
    door = tablet_a.device.door
    Scan.objects.create(device=tablet_a.device, door=door, centre=door.centre, method="face", direction="in")
    text = scrape(client)
    assert value(text, "justface_scans_open", chain=world.chain_a.pk, centre=door.centre_id, status="pending") == 1
    assert value(text, "justface_q_queue_length") == 0


def test_an_outside_client_is_refused(client, settings):
    settings.JUSTFACE_METRICS_ALLOW = ["10.9.0.0/16"]
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert outside.status_code == 403 and b"justface_" not in outside.content
    assert client.get("/metrics", REMOTE_ADDR="10.9.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer guess").status_code == 403


def test_the_bearer_token_lets_a_scraper_in_from_anywhere(client, settings):
    settings.JUSTFACE_METRICS_ALLOW = []
    settings.JUSTFACE_METRICS_TOKEN_SHA256 = token_sha256("s3cret-token")
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"justface_door_decisions_total" in ok.content


def test_metrics_switched_off_answer_404(client, settings):
    settings.JUSTFACE_METRICS = False
    assert client.get("/metrics").status_code == 404


def test_a_scan_of_another_chain_is_labelled_with_its_own_ids(client, world, tablet_a):
    open_around_the_clock(world.centre_b1)
    tablet_b = pair_tablet(world.centre_b1)
    before = scrape(client)
    assert tablet_b.pin("nobody", "1234").status_code == 200
    after = scrape(client)
    labels = {"chain": world.chain_b.pk, "centre": world.centre_b1.pk, "door": tablet_b.device.door_id}
    grew = value(after, "justface_door_decisions_total", **labels) - value(
        before, "justface_door_decisions_total", **labels
    )
    assert grew == 1


def test_the_token_command_prints_a_token_and_the_hash_the_settings_keep(client, settings):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("metrics_token", stdout=out)
    token_line, hash_line = out.getvalue().splitlines()
    raw = token_line.rsplit(" ", 1)[1]
    settings.JUSTFACE_METRICS_ALLOW = []
    settings.JUSTFACE_METRICS_TOKEN_SHA256 = hash_line.split("=", 1)[1]
    assert raw not in hash_line
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

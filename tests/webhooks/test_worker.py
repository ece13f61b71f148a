"""A real django-q2 worker (manage.py qcluster in its own process, the database as its queue)
sends the deliveries a commit queued; and claims are a compare-and-set: workers running at once
never take the same delivery, and a claim whose worker died lapses back to pending."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf

from tests.access.conftest import consent_to_face_scan
from tests.conftest import make_member
from tests.webhooks.conftest import loopback_allowed, receiver, subscribe  # noqa: F401
from webhooks import delivery, services
from webhooks.models import WebhookDelivery

Status = WebhookDelivery.Status


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,  # the test run's keys (settings_test set them): the worker must decrypt the secret
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.worker_settings",
        "DATABASE_URL": database_url(),
        "JUSTFACE_ENV_FILE": "",
        "JUSTFACE_WEBHOOK_ALLOW_NETS": "127.0.0.0/8",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen) -> str:
    worker.send_signal(signal.SIGTERM)  # the cluster's own process only: it stops its workers
    try:
        _, err = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        _, err = worker.communicate()
    return err.decode(errors="replace")[-2000:]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_what_a_commit_queued(world, receiver, monkeypatch):
    subscribe(world.chain_a, receiver, "consent.given")
    member = make_member(world.chain_a, world.centre_a1)
    worker = start_worker()
    try:
        monkeypatch.setattr(Conf, "SYNC", False)  # this process queues; the worker runs the task
        consent_to_face_scan(member)  # commits at once (no transaction around it): the kick is queued
        got = receiver.wait_for(1, timeout=90)
        assert got[0].verified and got[0].payload["data"]["member_id"] == member.pk
        deadline = time.monotonic() + 30
        while WebhookDelivery.objects.get().status != Status.DELIVERED and time.monotonic() < deadline:
            time.sleep(0.1)
        sent = WebhookDelivery.objects.get()
        assert sent.status == Status.DELIVERED and sent.attempts == 1
        # the worker processes run below the door (justface.worker_priority), the cluster's session too
        workers = [pid for pid in descendants(worker.pid) if os.getpriority(os.PRIO_PROCESS, pid) > 0]
        assert workers and {os.getpriority(os.PRIO_PROCESS, pid) for pid in workers} == {settings.JUSTFACE_Q_NICE}
        assert {os.sched_getscheduler(pid) for pid in workers} == {os.SCHED_IDLE}
        autogroup = Path(f"/proc/{worker.pid}/autogroup")
        if autogroup.exists():
            assert autogroup.read_text().split()[-1] == str(settings.JUSTFACE_Q_NICE)
    finally:
        log = stop_worker(worker)
    assert worker.returncode is not None, log


def descendants(root: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found, frontier = found + children, children
    return found


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_never_take_the_same_delivery(world, loopback_allowed):
    endpoint, _secret = services.create_endpoint(
        chain=world.chain_a, url="http://127.0.0.1:9/hooks", event_types=["consent.given"], actor=None
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event_id=f"msg_{n}", event_type="consent.given", body="{}", next_at=timezone.now()
        )
        for n in range(200)
    )
    start = threading.Barrier(4)
    taken: list[list[int]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        try:
            start.wait()
            while batch := delivery.claim(limit=16):
                taken[n].extend(d.pk for d in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [pk for mine in taken for pk in mine]
    assert len(every) == len(set(every)) == 200  # each delivery claimed exactly once
    assert WebhookDelivery.objects.filter(status=Status.SENDING).count() == 200


def test_a_claim_whose_worker_died_lapses_back_to_pending(clock, world, loopback_allowed):
    endpoint, _secret = services.create_endpoint(
        chain=world.chain_a, url="http://127.0.0.1:9/hooks", event_types=["consent.given"], actor=None
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="msg_1", event_type="consent.given", body="{}", next_at=timezone.now()
    )
    assert len(delivery.claim()) == 1
    assert delivery.claim() == [] and delivery.recover_lapsed() == 0  # held by its claim
    clock.shift(delivery.LEASE + timedelta(seconds=1))
    assert delivery.recover_lapsed() == 1
    assert WebhookDelivery.objects.get().status == Status.PENDING and len(delivery.claim()) == 1


def test_a_commit_queues_a_pump_only_when_none_is_running(world, monkeypatch):
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)
    delivery.beat()  # a pump is running: it will see the new deliveries itself
    services.kick()
    assert OrmQ.objects.count() == 0
    delivery.beat(running=False)  # it ended (or never ran): the kick queues one
    services.kick()
    assert OrmQ.objects.count() == 1


def test_one_pump_sends_at_a_time_and_a_dead_one_s_beat_goes_stale(clock, world, receiver):
    subscribe(world.chain_a, receiver, "consent.given")
    services.emit(chain_id=world.chain_a.pk, event_type="consent.given", data={"n": 1})
    delivery.beat()  # another pump is running (the schedule's, or one that just died)
    assert delivery.pump(linger=0) == {
        "delivered": 0,
        "failed_attempts": 0,
        "recovered": 0,
        "another_pump_running": True,
    }
    assert WebhookDelivery.objects.get().status == Status.PENDING  # left to the running pump
    clock.shift(services.BEAT_FRESH + timedelta(seconds=1))  # it never beat again: it died
    assert delivery.pump(linger=0)["delivered"] == 1
    assert receiver.wait_for(1) and WebhookDelivery.objects.get().status == Status.DELIVERED
    assert delivery.take_the_beat() and not delivery.take_the_beat()  # the beat was left cleared

"""The cursor feeds under concurrent writers (PostgreSQL, real threads): writers create and
update members, and insert access events, in transactions that stay open a little while a
reader pages through the feeds as fast as it can. At the end the reader has seen every row at
its final position (nothing committed behind its cursor) and no position twice."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from access.models import AccessEvent
from integration import feed
from integration.models import FeedEvent, MemberChange
from integration.sync import upsert_member

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent writers need PostgreSQL (SQLite locks the whole file)",
    ),
]

WRITERS, WRITES = 4, 40


def _walk(stream: str, chain_id: int, done: threading.Event) -> list:
    """Page until the writers are done and a last pass finds nothing new."""
    seen, cursor = [], 0
    while True:
        finished = done.is_set()
        rows, cursor, more = feed.page(chain_id=chain_id, stream=stream, after=cursor, limit=7)
        seen += [(r.pk, r.seq) for r in rows]
        if finished and not more and not rows:
            return seen


def _race(write, feed_name: str, chain_id: int) -> list:
    """WRITERS threads run write(n, rng) while one reader walks the feed until they are done;
    returns what it saw (any writer's error fails the test)."""
    done, errors, seen = threading.Event(), [], []

    def writer(n: int) -> None:
        try:
            write(n, random.Random(n))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    def reader() -> None:
        try:
            seen.extend(_walk(feed_name, chain_id, done))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    read = threading.Thread(target=reader)
    read.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    read.join(timeout=120)
    assert not errors and not read.is_alive()
    return seen


def test_member_feed_is_complete_and_duplicate_free_under_concurrent_writers(world):
    chain = world.chain_a

    def write(n: int, rng: random.Random) -> None:
        for i in range(WRITES):
            number = f"W{rng.randrange(25):03d}"  # writers overlap on the same members
            with transaction.atomic():
                upsert_member(
                    chain=chain,
                    external_id=number,
                    data={"first_name": "W", "last_name": f"{n}-{i}", "home_centre": "a1"},
                    actor=None,
                )
                time.sleep(rng.random() * 0.01)  # commit late: after later writers' commits

    seen = _race(write, feed.MEMBERS, chain.pk)
    positions = [seq for _pk, seq in seen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)  # no position twice
    last_seen = {pk: seq for pk, seq in seen}
    final = dict(MemberChange.objects.filter(chain=chain).values_list("member_id", "seq"))
    assert final and last_seen == final  # every member seen at its final position: nothing skipped


def test_events_feed_is_complete_and_duplicate_free_under_concurrent_doors(world):
    centre = world.centre_a1

    def write(n: int, rng: random.Random) -> None:
        for _ in range(WRITES):
            with transaction.atomic():
                AccessEvent.objects.create(centre=centre, method="pin", decision="denied", reason="wrong_pin")
                time.sleep(rng.random() * 0.01)

    seen = _race(write, feed.EVENTS, centre.chain_id)
    ids = [pk for pk, _seq in seen]
    assert len(ids) == len(set(ids)) == WRITERS * WRITES
    assert set(ids) == set(FeedEvent.objects.filter(chain_id=centre.chain_id).values_list("pk", flat=True))


def test_simultaneous_retries_with_one_idempotency_key_write_once(world):
    import json

    from django.test import Client

    from integration import keys
    from justface.models import AuditEntry
    from members.models import Member

    _key, raw = keys.issue_key(chain=world.chain_a, scopes=["members:write"], actor=None)
    rows = [{"external_id": f"R-{n}", "first_name": "R", "last_name": f"{n}", "home_centre": "a1"} for n in range(200)]
    start, answers = threading.Barrier(4), []

    def send() -> None:
        try:
            start.wait()
            response = Client().post(
                "/api/v1/integration/members/bulk",
                json.dumps(rows),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_IDEMPOTENCY_KEY="batch-1",
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One carries it out; the others are told it is under way (409) or, once it is done, get its answer.
    codes = [code for code, _ in answers]
    assert len(codes) == 4 and set(codes) <= {200, 409} and 200 in codes
    assert all(a["counts"]["created"] == 200 for code, a in answers if code == 200)
    assert Member.objects.filter(chain=world.chain_a).count() == 200
    assert AuditEntry.objects.filter(action="member.add").count() == 200

"""The two feeds a chain's systems page through with a cursor: members changed, and events.

A write never waits for anything: it marks its row unsequenced (seq NULL) in its own
transaction. A reader first numbers every committed unsequenced row of the chain, in one
statement, while holding the chain's counter row (FeedCounter) locked; the numbers follow the
counter, so a row that commits late gets a number after every number already handed out. Paging
by `seq > cursor` is then complete (nothing commits "behind" a cursor) and duplicate-free (a row
has one number until it changes again, and then a later one), whatever runs concurrently. The
door's transactions only insert their event rows: no lock is taken there."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from integration.models import FeedCounter, FeedEvent, MemberChange

MEMBERS, EVENTS = "members", "events"
SEQUENCE_BATCH = 50_000  # rows numbered per read at most; a later read numbers the rest


def mark_members_changed(*, chain_id: int, member_ids: list[int]) -> None:
    """In the writer's transaction: these members changed (their next number comes at the next read)."""
    if not member_ids:
        return
    now = timezone.now()
    MemberChange.objects.bulk_create(
        [MemberChange(member_id=pk, chain_id=chain_id, seq=None, changed_at=now) for pk in member_ids],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["member"],
        update_fields=["seq", "changed_at"],
    )


def event_data(*, occurred_at, data: dict) -> dict:
    """An event as the chain's systems read it, in the events feed and in a webhook's `data`."""
    return {"occurred_at": occurred_at.isoformat(), **data}


def _model(stream: str):
    return MemberChange if stream == MEMBERS else FeedEvent


def sequence(*, chain_id: int, stream: str) -> int:
    """Number the chain's committed unsequenced rows of the stream (in their own transaction);
    returns how many were numbered."""
    model = _model(stream)
    table, pk = model._meta.db_table, model._meta.pk.column
    with transaction.atomic():
        counter, _ = FeedCounter.objects.get_or_create(chain_id=chain_id, stream=stream)
        counter = FeedCounter.objects.select_for_update().get(pk=counter.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET seq = %s + numbered.n FROM ("
                f"  SELECT {pk} AS row_pk, row_number() OVER (ORDER BY {pk}) AS n FROM {table}"
                f"  WHERE chain_id = %s AND seq IS NULL ORDER BY {pk} LIMIT %s"
                f") AS numbered WHERE {table}.{pk} = numbered.row_pk",
                [counter.last_seq, chain_id, SEQUENCE_BATCH],
            )
            numbered = cursor.rowcount
        if numbered:
            FeedCounter.objects.filter(pk=counter.pk).update(last_seq=counter.last_seq + numbered)
    return numbered


def page(*, chain_id: int, stream: str, after: int, limit: int) -> tuple[list, int, bool]:
    """Rows of the stream numbered after `after`, oldest first: (rows, next cursor, more to come)."""
    sequence(chain_id=chain_id, stream=stream)
    rows = _model(stream).objects.filter(chain_id=chain_id, seq__gt=after).order_by("seq")
    if stream == MEMBERS:
        rows = rows.select_related("member__home_centre")
    found = list(rows[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1].seq if found else after), more

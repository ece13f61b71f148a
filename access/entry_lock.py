"""Door rules that count a member's earlier entries (anti-passback, a PIN used at another door)
decided one entry at a time per member.

The rules read committed access events, and an entry's event is written a few milliseconds after
its check: two entries of one member decided at the same moment at two doors would both pass.
So a granted entry through a door with such a rule takes the member's row lock (PostgreSQL
`SELECT ... FOR NO KEY UPDATE`, which does not block rows merely pointing at the member) and
checks the rules again while holding it, in the transaction that then writes the access event.
The second entry waits for the first to commit and then sees its event. On SQLite every write
transaction is `BEGIN IMMEDIATE` (justface.settings), which serialises the same way.

Only granted entries through doors with such a rule take the lock: every other decision (a
refusal, a check-out, a door without these rules) is decided exactly as before."""

from __future__ import annotations

import dataclasses
import functools

from django.db import transaction
from django.utils import timezone

from access import rules
from access.messages import Reason
from access.models import AntiPassback
from members.models import Member


def counts_entries(door) -> bool:
    return door is not None and (door.anti_passback != AntiPassback.OFF or door.refuse_pin_reuse)


def serialised(decide):
    """Wrap the decision's one writer (access.services.decision.decide): a granted entry through a door
    whose rules count earlier entries is checked again under the member's lock, and refused with
    the rule's reason if an entry decided meanwhile now forbids it."""

    @functools.wraps(decide)
    def wrapper(scan, verdict, **kwargs):
        member = verdict.member
        if not verdict.granted or member is None or scan.direction != "in" or not counts_entries(scan.door):
            return decide(scan, verdict, **kwargs)
        with transaction.atomic():
            Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values_list("pk", flat=True).first()
            refusal: Reason | None = rules.member_refusal(member, scan.door, scan.method, timezone.now())
            if refusal is not None:
                verdict = dataclasses.replace(verdict, reason=refusal)
            return decide(scan, verdict, **kwargs)

    return wrapper

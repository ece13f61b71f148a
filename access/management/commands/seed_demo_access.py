"""The demo's doors and a few weeks of synthetic access events (called by `seed_demo`; members
sits below access, so it calls this command by name).

Each centre of the chain gets a door, "Indgang (demo)", and its tablet a device token, printed once.
The first run also writes WEEKS weeks of made-up check-ins, check-outs and refusals (PIN and face,
a few refused as not recognised, outside the opening hours, wrong PIN, and one burst of failed
liveness checks), so that statistics, access reports and the failed-liveness page have content.
They are demo data, clearly so: every one carries ``{"demo": true}`` in its liveness detail and
happens at a door whose name says "(demo)". Safe to run again: nothing is added twice."""

from __future__ import annotations

import io
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from access import services
from access.models import AccessEvent, DeviceToken, Visit
from members.models import Centre, Chain, Member

DOOR_NAME = "Indgang (demo)"
WEEKS = 4
DEMO = {"demo": True}


class Command(BaseCommand):
    help = "Doors, device tokens and a few weeks of synthetic (demo) access events for a demo chain."

    def add_arguments(self, parser):
        parser.add_argument("--chain", default="demo", help="The demo chain's slug.")

    def handle(self, *args, chain: str, **options):
        chain_obj = Chain.objects.get(slug=chain)
        for centre in Centre.objects.filter(chain=chain_obj).order_by("slug"):
            door = services.ensure_door(centre=centre, name=DOOR_NAME, actor=None)
            if not DeviceToken.objects.filter(door=door, revoked_at=None).exists():
                _token, raw = services.issue_device_token(door=door, label="demo tablet", actor=None)
                self.stdout.write(f"  Door token for {centre.name} ({centre.slug}), shown once: {raw}")
            else:
                self.stdout.write(
                    f"  {centre.name}: its demo door has a token already (stored hashed). A new one: "
                    f"python manage.py create_door_token --chain {chain} --centre {centre.slug} "
                    f'--door "{DOOR_NAME}"'
                )
            if AccessEvent.objects.filter(door=door).exists():
                continue
            with transaction.atomic():
                n = _events(centre, door)
            self.stdout.write(f"  {n} synthetic access events (demo data) at {centre.name}, last {WEEKS} weeks.")
        call_command("rebuild_hourly_stats", chain=chain, stderr=io.StringIO())


def _events(centre: Centre, door) -> int:
    rng = random.Random(f"demo-{centre.slug}")  # the same demo history on every machine
    members = list(Member.objects.filter(home_centre=centre, status=Member.Status.ACTIVE).only("pk"))
    if not members:
        return 0
    tz = ZoneInfo(centre.time_zone)
    today = timezone.localdate()
    events, visits = [], []

    def add(at, **fields):
        events.append((at, AccessEvent(centre=centre, door=door, liveness_detail=DEMO, **fields)))

    for back in range(WEEKS * 7, 0, -1):
        day = today - timedelta(days=back)
        busy = 0.6 if day.weekday() >= 5 else 1.0
        for hour in range(6, 22):
            # Mornings and evenings are busy, midday quiet.
            expected = busy * (4 if hour in (7, 8, 17, 18, 19) else 2 if hour in (6, 16, 20) else 1)
            for _ in range(rng.randint(0, int(expected * 2))):
                at = datetime.combine(day, time(hour, rng.randrange(60)), tz)
                member = rng.choice(members)
                method = "face" if rng.random() < 0.7 else "pin"
                score = round(rng.uniform(0.7, 0.95), 3) if method == "face" else None
                add(at, member=member, method=method, decision="granted", reason="ok", score=score)
                out = at + timedelta(minutes=rng.randint(40, 110))
                add(out, member=member, method=method, decision="granted", reason="ok", direction="out", score=score)
                visits.append(Visit(member=member, centre=centre, checked_in_at=at, checked_out_at=out, ends_at=out))
            if rng.random() < 0.15:
                at = datetime.combine(day, time(hour, rng.randrange(60)), tz)
                reason = rng.choice(["not_recognised", "wrong_pin", "no_face", "poor_quality"])
                method = "pin" if reason == "wrong_pin" else "face"
                add(at, method=method, decision="denied", reason=reason)
        if rng.random() < 0.3:
            add(datetime.combine(day, time(22, rng.randrange(30)), tz), member=rng.choice(members), method="pin",
                decision="denied", reason="outside_opening_hours")  # fmt: skip
    # One evening someone tried photos at the door: a burst of failed liveness checks.
    burst_day = today - timedelta(days=3)
    for minute in range(0, 50, 6):
        at = datetime.combine(burst_day, time(20, minute), tz)
        add(at, method="face", decision="denied", reason="liveness_failed", liveness_layer="passive",
            liveness_score=round(rng.uniform(0.05, 0.3), 3))  # fmt: skip
    created = AccessEvent.objects.bulk_create([e for _at, e in events], batch_size=1000)
    for (at, _e), event in zip(events, created, strict=True):
        event.at = at  # "at" is set on insert; the demo's history is written afterwards
    AccessEvent.objects.bulk_update(created, ["at"], batch_size=1000)
    Visit.objects.bulk_create(visits, batch_size=1000)
    return len(created)

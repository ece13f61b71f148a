"""`manage.py rebuild_hourly_stats --chain SLUG [--centre SLUG ...] [--from YYYY-MM-DD --to YYYY-MM-DD]`:
recount the hourly statistics of a chain's centres from their access events (access.stats.rebuild),
e.g. after importing events from before the statistics existed. The days are the centre's own;
without a period, from each centre's first event. Idempotent: the rows of the period are
replaced by the same count the door keeps as events happen. Best run when the doors are quiet
(an event arriving during the recount of its own hour may be missed)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from access import stats
from access.models import AccessEvent
from members.management.chains import centres_named, chain_named, day
from members.models import Centre


class Command(BaseCommand):
    help = "Recount the hourly statistics of a chain's centres from their access events."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="Chain slug.")
        parser.add_argument(
            "--centre", action="append", default=[], help="Centre slug; repeat for several (default: all)."
        )
        parser.add_argument(
            "--from", dest="date_from", help="First day (YYYY-MM-DD, the centre's time zone); with --to."
        )
        parser.add_argument("--to", dest="date_to", help="Last day, included (YYYY-MM-DD); with --from.")

    def handle(self, *args, **options):
        chain = chain_named(options["chain"])
        if (options["date_from"] is None) != (options["date_to"] is None):
            raise CommandError("Give both --from and --to, or neither (everything since the first event).")
        period = None
        if options["date_from"] is not None:
            period = (day(options["date_from"], "--from"), day(options["date_to"], "--to"))
            if period[1] < period[0]:
                raise CommandError(f"The period is reversed: --to {period[1]} is before --from {period[0]}.")
        centres = centres_named(chain, options["centre"]) or list(Centre.objects.filter(chain=chain).order_by("slug"))

        plans = []  # (centre, since, until, events)
        for centre in centres:
            if period is None:
                first = AccessEvent.objects.filter(centre=centre).order_by("at").values_list("at", flat=True).first()
                if first is None:
                    continue
                since, until = first, None
            else:
                tz = ZoneInfo(centre.time_zone)
                since = datetime.combine(period[0], time.min, tz)
                until = datetime.combine(period[1] + timedelta(days=1), time.min, tz)
            events = AccessEvent.objects.filter(centre=centre, at__gte=stats.hour_of(since))
            if until is not None:
                events = events.filter(at__lt=until)
            plans.append((centre, since, until, events.count()))

        total = 0
        with tqdm(
            total=sum(p[3] for p in plans), desc="recounting", unit="event", file=self.stderr._out, disable=None
        ) as bar:
            for centre, since, until, _ in plans:
                with transaction.atomic():  # a centre's hours are replaced whole, or not at all
                    total += stats.rebuild(centre=centre, since=since, until=until, on_event=lambda: bar.update(1))
        self.stderr.write(f"{total} event(s) recounted in {len(plans)} centre(s) of chain {chain.slug!r}.")

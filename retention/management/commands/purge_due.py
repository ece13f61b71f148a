from django.core.management.base import BaseCommand, CommandError

from retention.jobs import purge_due


class Command(BaseCommand):
    help = (
        "Run the retention purge once (door photos past their deadline, orphaned scans); django-q runs it every minute."
    )

    def handle(self, *args, **options):
        report = purge_due()
        self.stdout.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.items()))
        if report["jobs_failed"]:
            raise CommandError(f"{report['jobs_failed']} erasure job(s) failed; see the log. They are retried later.")

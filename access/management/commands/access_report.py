"""`manage.py access_report --chain SLUG [--centre SLUG] [--member-number N] --from YYYY-MM-DD
--to YYYY-MM-DD --format csv|xlsx --output PATH`: the staff page's report, for operators and
scripts (same service, same header, one audit entry; written whole, whatever its size)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from access import door_reports, reports
from justface.tenancy import Scope
from members.management.chains import centres_named, chain_named, day


class Command(BaseCommand):
    help = "Write an access report (CSV or XLSX) of a chain's access events."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True)
        parser.add_argument("--centre", action="append", default=[], help="Centre slug; repeat for several.")
        parser.add_argument("--member-number", default="")
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--format", choices=reports.FORMATS, required=True)
        parser.add_argument("--output", required=True, help="File to write ('-' for standard output, CSV only).")
        parser.add_argument(
            "--door-events",
            choices=[value for value, _label in door_reports.CHOICES],
            default=door_reports.ALL,
            help="Door events after the access events: all (default), alarms only, or none.",
        )

    def handle(self, *args, **options):
        chain = chain_named(options["chain"])
        centres = centres_named(chain, options["centre"])
        scope = Scope(is_platform=True)  # the operator; the chain filter is in the report's filters
        try:
            filters = reports.build_filters(
                scope=scope,
                chain=chain,
                centres=centres,
                member_number=options["member_number"],
                date_from=day(options["date_from"]),
                date_to=day(options["date_to"]),
                door_events=options["door_events"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(m for ms in error.message_dict.values() for m in ms)) from None
        if options["output"] == "-" and options["format"] != "csv":
            raise CommandError("Only CSV can go to standard output.")
        if options["output"] != "-" and not Path(options["output"]).resolve().parent.is_dir():
            # Checked before the report runs: a report that cannot be written is not run (nor audited).
            raise CommandError(f"--output: the folder of {options['output']} does not exist.")
        report = reports.run_report(scope=scope, actor=None, filters=filters, fmt=options["format"], how="command")
        if report.chunks is not None:
            if options["output"] == "-":
                for chunk in report.chunks:
                    self.stdout.write(chunk, ending="")
                return
            with open(options["output"], "w", encoding="utf-8", newline="") as fh:
                fh.writelines(report.chunks)
        else:
            with open(options["output"], "wb") as fh:
                fh.write(report.content)
        self.stderr.write(f"{report.rows} row(s) written to {options['output']}.")

"""Mark invitations whose e-mail bounced, from the mail provider's bounce report:
invitation_bounces --chain demo bounces.txt   (one address per line; "-" reads standard input)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from members.invitation_rounds import mark_bounced
from members.management.chains import chain_named


class Command(BaseCommand):
    help = (
        "Mark as bounced the latest sent invitation of each address in the mail provider's bounce report "
        "(one e-mail address per line; '-' reads standard input)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The report: one address per line, or '-' for standard input.")
        parser.add_argument("--chain", required=True, help="The chain's slug.")

    def handle(self, *args, file: str, chain: str, **options):
        found = chain_named(chain)
        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8-sig")
            with stream:
                # A CSV report: the address is the field that has an @ in it.
                emails = [next((f for f in line.replace(";", ",").split(",") if "@" in f), "") for line in stream]
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        marked, missing = mark_bounced(chain=found, emails=emails, actor=None)
        self.stdout.write(f"{marked} invitation(s) marked as bounced; {missing} address(es) without a sent invitation.")

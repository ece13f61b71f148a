"""Erase a member from the command line, through the same service, audit and receipt as the
admin: erase_member --chain SLUG --member-number N --reason TEXT (prints the receipt as JSON)."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.management.chains import chain_named, member_numbered
from retention.services import erase_member_by_operator


class Command(BaseCommand):
    help = "Erase a member and everything about them (cannot be undone); prints the receipt."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="The chain's slug.")
        parser.add_argument("--member-number", required=True)
        parser.add_argument(
            "--reason",
            required=True,
            help="Why (kept in the audit trail: a ticket or request number, never personal data).",
        )

    def handle(self, *args, chain: str, member_number: str, reason: str, **options):
        if not reason.strip():
            raise CommandError("Give a reason (e.g. the request's or ticket's number).")
        member = member_numbered(chain_named(chain), member_number)
        try:
            receipt = erase_member_by_operator(member=member, reason=reason.strip())
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(json.dumps(receipt, indent=2, sort_keys=True, default=str))

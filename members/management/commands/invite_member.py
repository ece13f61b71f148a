"""Send a member the one-time link to the member portal: invite_member --chain demo --member-number D00001"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.management.chains import chain_named, member_numbered
from members.services import invite_member


class Command(BaseCommand):
    help = "E-mail a member a one-time link to choose a password for the member portal."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="The chain's slug.")
        parser.add_argument("--member-number", required=True)

    def handle(self, *args, chain: str, member_number: str, **options):
        member = member_numbered(chain_named(chain), member_number)
        try:
            invitation = invite_member(member=member, actor=None)
        except (ValidationError, RuntimeError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Invitation sent to member {member.pk}; the link expires {invitation.expires_at:%Y-%m-%d %H:%M}."
            )
        )

"""Issue an integration key for a chain and print it once (stdout); what it is goes to stderr."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration import keys
from integration.models import Scope
from members.models import Chain


class Command(BaseCommand):
    help = "Issue an integration API key for a chain. The key is printed once, on stdout."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="The chain's slug.")
        parser.add_argument("--scopes", required=True, help=f"Comma-separated, among: {', '.join(Scope.values)}.")
        parser.add_argument("--label", default="", help="What the key is for, e.g. 'Membership system'.")

    def handle(self, *args, chain: str, scopes: str, label: str, **options):
        found = Chain.objects.filter(slug=chain).first()
        if found is None:
            raise CommandError(f"No chain with slug {chain!r}.")
        try:
            key, raw = keys.issue_key(chain=found, scopes=scopes.split(","), label=label, actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Integration key #{key.pk} ({key.prefix}…) for {found.slug}, scopes {', '.join(key.scopes)}. "
            "Shown once; store it in the membership system now:"
        )
        self.stdout.write(raw)

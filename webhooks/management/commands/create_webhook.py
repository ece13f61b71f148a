"""Subscribe a URL of a chain's systems to event types, and print the endpoint's signing secret
once (stdout; the rest on stderr)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.models import Chain
from webhooks import events, services


class Command(BaseCommand):
    help = "Create a webhook endpoint for a chain; its signing secret (whsec_...) is printed once on stdout."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="The chain's slug.")
        parser.add_argument("--url", required=True, help="Where deliveries are POSTed (HTTPS, public address).")
        parser.add_argument(
            "--events",
            dest="event_types",
            required=True,
            help=f"Comma-separated event types: {', '.join(events.EVENT_TYPES)}.",
        )
        parser.add_argument("--description", default="", help="A note for staff.")

    def handle(self, *args, chain: str, url: str, event_types: str, description: str, **options):
        found = Chain.objects.filter(slug=chain).first()
        if found is None:
            raise CommandError(f"No chain with slug {chain!r}.")
        types = [t.strip() for t in event_types.split(",") if t.strip()]
        try:
            endpoint, secret = services.create_endpoint(
                chain=found, url=url, event_types=types, description=description, actor=None
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Webhook endpoint #{endpoint.pk} for {found.slug}: {', '.join(endpoint.event_types)}.")
        self.stderr.write("Its signing secret, shown once; give it to the receiver now:")
        self.stdout.write(secret)

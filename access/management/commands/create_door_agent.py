"""Create (or reuse) a door and print a new door agent credential and the server's public key, once."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from access import door_signing, services
from access.management.doors import add_door_options, checked_door_name, named_centre


class Command(BaseCommand):
    help = (
        "Issue a door agent credential for a door (created if it does not exist). Prints the credential and then "
        "the server's public key (ed25519:<kid>:<base64>) on stdout, one per line; the credential is shown once."
    )

    def add_arguments(self, parser):
        add_door_options(parser, label_help="Which box will run the agent.")

    def handle(self, *args, centre: str, door: str, chain: str | None, label: str, **options):
        found, name = named_centre(centre, chain), checked_door_name(door)
        try:  # a broken key fails before anything is issued
            public = door_signing.signing_key().public_text
        except (ImproperlyConfigured, OSError) as exc:
            raise CommandError(f"The door signing key cannot be used: {exc}") from None
        door_obj = services.ensure_door(centre=found, name=name, actor=None)
        agent, raw = services.issue_door_agent(door=door_obj, label=label[:100], actor=None)
        self.stderr.write(
            f"Door agent #{agent.pk} for {door_obj}. Shown once: the first line is the agent's credential, "
            "the second the server's public key to pair it with."
        )
        self.stdout.write(raw)
        self.stdout.write(public)

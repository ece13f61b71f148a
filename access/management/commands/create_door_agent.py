"""Create (or reuse) a door and print a new door agent credential and the server's public key, once."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from access import door_signing, services
from members.models import Centre


class Command(BaseCommand):
    help = (
        "Issue a door agent credential for a door (created if it does not exist). Prints the credential and then "
        "the server's public key (ed25519:<kid>:<base64>) on stdout, one per line; the credential is shown once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--centre", required=True, help="The centre's slug.")
        parser.add_argument("--door", required=True, help="The door's name, e.g. 'Main entrance'.")
        parser.add_argument("--chain", help="The chain's slug, when several chains have a centre with that slug.")
        parser.add_argument("--label", default="", help="Which box will run the agent.")

    def handle(self, *args, centre: str, door: str, chain: str | None, label: str, **options):
        centres = Centre.objects.select_related("chain").filter(slug=centre)
        if chain:
            centres = centres.filter(chain__slug=chain)
        found = list(centres[:2])
        if not found:
            raise CommandError(f"No centre with slug {centre!r}" + (f" in chain {chain!r}." if chain else "."))
        if len(found) > 1:
            raise CommandError(f"Several chains have a centre {centre!r}; say which with --chain.")
        if not door.strip() or len(door) > 100:
            raise CommandError("--door must be a name of 1 to 100 characters.")
        try:  # a broken key fails before anything is issued
            public = door_signing.signing_key().public_text
        except (ImproperlyConfigured, OSError) as exc:
            raise CommandError(f"The door signing key cannot be used: {exc}") from None
        door_obj = services.ensure_door(centre=found[0], name=door.strip(), actor=None)
        agent, raw = services.issue_door_agent(door=door_obj, label=label[:100], actor=None)
        self.stderr.write(
            f"Door agent #{agent.pk} for {door_obj}. Shown once: the first line is the agent's credential, "
            "the second the server's public key to pair it with."
        )
        self.stdout.write(raw)
        self.stdout.write(public)

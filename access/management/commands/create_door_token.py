"""Create (or reuse) a door and print a new device token for its tablet, once."""

from django.core.management.base import BaseCommand, CommandError

from access import services
from members.models import Centre


class Command(BaseCommand):
    help = "Issue a device token for a door (created if it does not exist). The token is printed once."

    def add_arguments(self, parser):
        parser.add_argument("--centre", required=True, help="The centre's slug.")
        parser.add_argument("--door", required=True, help="The door's name, e.g. 'Main entrance'.")
        parser.add_argument("--chain", help="The chain's slug, when several chains have a centre with that slug.")
        parser.add_argument("--label", default="", help="Which tablet will hold the token.")

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
        door_obj = services.ensure_door(centre=found[0], name=door.strip(), actor=None)
        token, raw = services.issue_device_token(door=door_obj, label=label[:100], actor=None)
        self.stderr.write(f"Device token #{token.pk} for {door_obj}. Shown once; store it on the tablet now:")
        self.stdout.write(raw)

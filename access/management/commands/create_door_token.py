"""Create (or reuse) a door and print a new device token for its tablet, once."""

from django.core.management.base import BaseCommand

from access import services
from access.management.doors import add_door_options, checked_door_name, named_centre


class Command(BaseCommand):
    help = "Issue a device token for a door (created if it does not exist). The token is printed once."

    def add_arguments(self, parser):
        add_door_options(parser, label_help="Which tablet will hold the token.")

    def handle(self, *args, centre: str, door: str, chain: str | None, label: str, **options):
        found, name = named_centre(centre, chain), checked_door_name(door)
        door_obj = services.ensure_door(centre=found, name=name, actor=None)
        token, raw = services.issue_device_token(door=door_obj, label=label[:100], actor=None)
        self.stderr.write(f"Device token #{token.pk} for {door_obj}. Shown once; store it on the tablet now:")
        self.stdout.write(raw)

"""The door options of the commands that pair something with a door (create_door_token,
create_door_agent): --centre, --door, --chain, --label, and the door they name."""

from django.core.management.base import CommandError

from members.models import Centre


def add_door_options(parser, *, label_help: str) -> None:
    parser.add_argument("--centre", required=True, help="The centre's slug.")
    parser.add_argument("--door", required=True, help="The door's name, e.g. 'Main entrance'.")
    parser.add_argument("--chain", help="The chain's slug, when several chains have a centre with that slug.")
    parser.add_argument("--label", default="", help=label_help)


def named_centre(centre: str, chain: str | None) -> Centre:
    centres = Centre.objects.select_related("chain").filter(slug=centre)
    if chain:
        centres = centres.filter(chain__slug=chain)
    found = list(centres[:2])
    if not found:
        raise CommandError(f"No centre with slug {centre!r}" + (f" in chain {chain!r}." if chain else "."))
    if len(found) > 1:
        raise CommandError(f"Several chains have a centre {centre!r}; say which with --chain.")
    return found[0]


def checked_door_name(door: str) -> str:
    if not door.strip() or len(door) > 100:
        raise CommandError("--door must be a name of 1 to 100 characters.")
    return door.strip()

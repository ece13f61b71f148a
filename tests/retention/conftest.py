# The door's fixtures: retention purges what the door writes.
from tests.access.conftest import colin, private_root, tablet_a  # noqa: F401

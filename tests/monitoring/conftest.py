from tests.access.conftest import colin, private_root, tablet_a  # noqa: F401  (the door's fixtures)

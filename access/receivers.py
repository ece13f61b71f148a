"""Reactions to events of the apps below access."""

from members.signals import biometrics_erased


def _erase_door_photos(sender, member, **kwargs) -> int:
    from access.services import erase_door_photos

    return erase_door_photos(member=member)


def connect() -> None:
    biometrics_erased.connect(_erase_door_photos, dispatch_uid="access.erase_door_photos")

import re
import zoneinfo

from django.core.exceptions import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (for example Europe/Copenhagen).")


def validate_opening_hours(value) -> None:
    """{"mon": [["06:00", "22:00"]], ...}: each day a list of open intervals; a day left out is closed."""
    if not isinstance(value, dict):
        raise ValidationError('Opening hours must be an object such as {"mon": [["06:00", "22:00"]]}.')
    for day, intervals in value.items():
        if day not in DAYS:
            raise ValidationError(f"{day!r} is not a day; use {', '.join(DAYS)}.")
        if not isinstance(intervals, list):
            raise ValidationError(f"Opening hours for {day} must be a list of [open, close] pairs.")
        for interval in intervals:
            if not (
                isinstance(interval, list)
                and len(interval) == 2
                and all(isinstance(t, str) and _TIME.match(t) for t in interval)
            ):
                raise ValidationError(f'Opening hours for {day}: {interval!r} is not an ["HH:MM", "HH:MM"] pair.')
            if interval[0] >= interval[1]:
                raise ValidationError(f"Opening hours for {day}: {interval[0]} is not before {interval[1]}.")

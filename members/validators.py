import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(zone)s is not a known time zone (for example Europe/Copenhagen).") % {"zone": repr(value)}
        )


def validate_opening_hours(value) -> None:
    """{"mon": [["06:00", "22:00"]], ...}: each day a list of open intervals; a day left out is closed.
    An interval that closes before it opens runs overnight: ["22:00", "06:00"] on Monday is open from
    Monday 22:00 to Tuesday 06:00 (access.rules)."""
    if not isinstance(value, dict):
        raise ValidationError(_('Opening hours must be an object such as {"mon": [["06:00", "22:00"]]}.'))
    for day, intervals in value.items():
        if day not in DAYS:
            raise ValidationError(
                _("%(day)s is not a day; use %(days)s.") % {"day": repr(day), "days": ", ".join(DAYS)}
            )
        if not isinstance(intervals, list):
            raise ValidationError(_("Opening hours for %(day)s must be a list of [open, close] pairs.") % {"day": day})
        for interval in intervals:
            if not (
                isinstance(interval, list)
                and len(interval) == 2
                and all(isinstance(t, str) and _TIME.match(t) for t in interval)
            ):
                raise ValidationError(
                    _('Opening hours for %(day)s: %(interval)s is not an ["HH:MM", "HH:MM"] pair.')
                    % {"day": day, "interval": repr(interval)}
                )
            if interval[0] == interval[1] or interval[0] == "24:00":
                raise ValidationError(
                    _("Opening hours for %(day)s: %(opens)s–%(closes)s is not an opening time.")
                    % {"day": day, "opens": interval[0], "closes": interval[1]}
                )

"""Setting a centre and a chain up without typing JSON: opening hours as one line
per day, the chain's policy as one form field per setting. The stored values stay the JSON that
the door and the retention jobs read (Centre.opening_hours, Chain.settings)."""

from __future__ import annotations

import re
from dataclasses import fields as dataclass_fields

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Centre, Chain
from members.policy import AUDIT_MIN_DAYS, ChainPolicy
from members.validators import DAYS

DAY_NAMES = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
_CLOCK = r"(\d{1,2})[:.](\d{2})"
_INTERVAL = re.compile(rf"^{_CLOCK}\s*[-–—]\s*{_CLOCK}$")


class OpeningHoursWidget(forms.MultiWidget):
    template_name = "members/widgets/opening_hours.html"

    def __init__(self, attrs=None):
        day_attrs = {"placeholder": "06:00–22:00", "size": 28, **(attrs or {})}
        super().__init__([forms.TextInput(attrs=day_attrs) for _day in DAYS], attrs)

    def decompress(self, value):
        value = value or {}
        return [", ".join(f"{a}–{b}" for a, b in value.get(day, [])) for day in DAYS]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for day, sub in zip(DAYS, context["widget"]["subwidgets"], strict=True):
            sub["day_name"] = DAY_NAMES[day]
        return context


def _clock(hours: str, minutes: str) -> str:
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m <= 59) or (h == 24 and m):
        raise ValidationError(_("%(time)s is not a time of day.") % {"time": f"{hours}:{minutes}"})
    return f"{h:02d}:{m:02d}"


class OpeningHoursField(forms.MultiValueField):
    """One line per day: "06:00–22:00", several "06:00–12:00, 14:00–22:00", overnight
    "22:00–06:00" (closes the next morning); an empty day is closed; every day empty: always open."""

    widget = OpeningHoursWidget

    def __init__(self, **kwargs):
        kwargs.pop("encoder", None), kwargs.pop("decoder", None)
        super().__init__(
            fields=[forms.CharField(required=False, max_length=200) for _day in DAYS],
            require_all_fields=False,
            required=False,
            **kwargs,
        )

    def compress(self, data_list):
        hours = {}
        for day, text in zip(DAYS, data_list or [""] * len(DAYS), strict=True):
            intervals = []
            for part in filter(None, (p.strip() for p in (text or "").split(","))):
                found = _INTERVAL.match(part)
                if not found:
                    raise ValidationError(
                        _("%(day)s: write the hours as 06:00–22:00 (several: 06:00–12:00, 14:00–22:00).")
                        % {"day": DAY_NAMES[day]}
                    )
                opens, closes = _clock(*found.groups()[:2]), _clock(*found.groups()[2:])
                if opens == closes or opens == "24:00":
                    raise ValidationError(
                        _("%(day)s: %(opens)s–%(closes)s is not an opening time.")
                        % {"day": DAY_NAMES[day], "opens": opens, "closes": closes}
                    )
                intervals.append([opens, closes])
            if intervals:
                hours[day] = intervals
        return hours


class CentreForm(forms.ModelForm):
    opening_hours = OpeningHoursField(
        label=gettext_lazy("Opening hours"),
        help_text=gettext_lazy(
            "One line per day, e.g. 06:00–22:00; several: 06:00–12:00, 14:00–22:00; overnight: 22:00–06:00 "
            "(closes the next morning). An empty day is closed; every day empty: open around the clock."
        ),
    )

    class Meta:
        model = Centre
        fields = "__all__"


# The chain's policy: each setting's label (members.policy.ChainPolicy holds the defaults).
POLICY_LABELS = {
    "minor_age": gettext_lazy("Age below which a guardian must confirm face-scan consent (years)"),
    "keep_member_photo": gettext_lazy("Keep the enrollment photo (encrypted) so the desk can compare faces"),
    "door_photo_max_hours": gettext_lazy("Door photos of admitted members: kept until check-out, at most (hours)"),
    "denied_frame_hours": gettext_lazy("Photos of refused scans: kept for support (hours; 0: deleted at once)"),
    "checkins_retention_days": gettext_lazy("Check-ins and membership data: kept after the membership ends (days)"),
    "biometric_retention_days": gettext_lazy("Face template and photos: kept after the membership ends (days)"),
    "pin_retention_days": gettext_lazy("Door PIN: kept after the membership ends (days)"),
    "marketing_retention_days": gettext_lazy("Marketing consent: kept after the membership ends (days)"),
    "requests_retention_days": gettext_lazy("Data-protection requests: kept after they are closed (days)"),
    "audit_retention_days": gettext_lazy("Audit trail: kept (days; at least 365)"),
    "erasure_job_retention_days": gettext_lazy("Finished erasure jobs: kept (days)"),
    "exclusion_max_days": gettext_lazy("Longest exclusion (days)"),
    "exclusion_permanent_allowed": gettext_lazy("Permanent exclusions allowed"),
    "exclusion_refuses_membership": gettext_lazy("Refuse membership to a person on the exclusion list (else warn)"),
    "pin_min_length": gettext_lazy("Shortest door PIN (4 to 8 digits)"),
    "pin_device_daily_failures": gettext_lazy("Wrong PINs a door tablet accepts per day before its PIN pad locks"),
}
_LIMITS = {
    "pin_min_length": (4, 8),
    "audit_retention_days": (AUDIT_MIN_DAYS, None),
    "pin_device_daily_failures": (1, None),
}
POLICY_PREFIX = "policy_"


def _policy_fields() -> dict[str, forms.Field]:
    made = {}
    for f in dataclass_fields(ChainPolicy):
        label = POLICY_LABELS.get(f.name, f.name)
        if f.type == "bool":
            made[POLICY_PREFIX + f.name] = forms.BooleanField(label=label, required=False)
        else:
            low, high = _LIMITS.get(f.name, (0, None))
            made[POLICY_PREFIX + f.name] = forms.IntegerField(label=label, min_value=low, max_value=high)
    return made


class ChainFormBase(forms.ModelForm):
    class Meta:
        model = Chain
        exclude = ["settings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.instance.policy if self.instance.pk else ChainPolicy()
        for f in dataclass_fields(ChainPolicy):
            if POLICY_PREFIX + f.name in self.fields:
                self.fields[POLICY_PREFIX + f.name].initial = getattr(policy, f.name)

    def clean(self):
        data = super().clean()
        defaults = ChainPolicy()
        chosen = {}
        for f in dataclass_fields(ChainPolicy):
            key = POLICY_PREFIX + f.name
            if key in self.fields and data.get(key) is not None and data[key] != getattr(defaults, f.name):
                chosen[f.name] = data[key]
        # Settings this form does not show (none today) are kept as they were.
        kept = {k: v for k, v in (self.instance.settings or {}).items() if POLICY_PREFIX + k not in self.fields}
        self.instance.settings = {**kept, **chosen}
        return data


ChainForm = type("ChainForm", (ChainFormBase,), {**_policy_fields(), "__module__": __name__})
POLICY_FIELD_NAMES = [POLICY_PREFIX + f.name for f in dataclass_fields(ChainPolicy)]

"""The access report's form: every choice offered comes from the user's scope."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access import door_reports, reports
from access.messages import Reason
from access.models import AccessEvent, Door
from justface import display
from justface.widgets import IsoDateInput
from members.models import Centre, Chain


class ReportForm(forms.Form):
    chain = forms.ModelChoiceField(Chain.objects.none(), label=_("Chain"), required=False)
    centres = forms.ModelMultipleChoiceField(
        Centre.objects.none(), label=_("Centres"), required=False, help_text=_("None chosen: every centre you may see.")
    )
    doors = forms.ModelMultipleChoiceField(
        Door.objects.none(), label=_("Doors"), required=False, help_text=_("None chosen: every door.")
    )
    date_from = forms.DateField(label=_("From (first day)"), widget=IsoDateInput())
    date_to = forms.DateField(label=_("To (last day)"), widget=IsoDateInput())
    member_number = forms.CharField(
        label=_("Member number"), required=False, max_length=32, help_text=_("Empty: all members.")
    )
    decision = forms.ChoiceField(
        label=_("Decision"), required=False, choices=[("", _("Any"))] + list(AccessEvent.Decision.choices)
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", _("Any"))] + [(r.value, display.labels("access.reason").get(r.value, r.value)) for r in Reason],
    )
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", _("Any"))] + list(AccessEvent.Method.choices)
    )
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("Any"))] + list(AccessEvent.Direction.choices)
    )
    door_events = forms.ChoiceField(
        label=_("Door events"),
        required=False,
        choices=door_reports.CHOICES,
        initial=door_reports.ALL,
        help_text=_(
            "What the doors did in the same period, centres and doors (a table of its own): opened after a grant, "
            "forced open, held open, agent offline, tailgating hints. A member number shows only where a door "
            "event is tied to a member's entry."
        ),
    )
    file_format = forms.ChoiceField(label=_("File"), choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")], initial="csv")

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["chain"].queryset = scope.filter(Chain.objects.all())
        if not scope.is_platform:
            del self.fields["chain"]  # staff belong to one chain
        self.fields["centres"].queryset = scope.filter(Centre.objects.select_related("chain"))
        self.fields["doors"].queryset = scope.filter(Door.objects.select_related("centre"))
        today = timezone.localdate()
        self.fields["date_from"].initial = today.replace(day=1)
        self.fields["date_to"].initial = today

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        chain = data.get("chain") or (
            Chain.objects.filter(pk=self.scope.chain_id).first() if not self.scope.is_platform else None
        )
        if chain is None:
            raise ValidationError({"chain": _("Choose the chain.")})
        try:
            self.filters = reports.build_filters(
                scope=self.scope,
                chain=chain,
                date_from=data.get("date_from"),
                date_to=data.get("date_to"),
                centres=data.get("centres") or (),
                doors=data.get("doors") or (),
                member_number=data.get("member_number", ""),
                decision=data.get("decision", ""),
                reason=data.get("reason", ""),
                method=data.get("method", ""),
                direction=data.get("direction", ""),
                door_events=data.get("door_events") or door_reports.ALL,
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data

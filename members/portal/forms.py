"""Forms of the member's own pages. They validate input; the writes are members.services'."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from members.models import DataSubjectRequest, Member
from members.services import RECTIFIABLE_FIELDS, validate_pin


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=password_validators_help_text_html,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = list(RECTIFIABLE_FIELDS)
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "phone": _("Phone"),
            "address": _("Address"),
            "gender": _("Gender"),
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gender"].choices = [
            (Member.Gender.FEMALE, _("Female")),
            (Member.Gender.MALE, _("Male")),
            (Member.Gender.OTHER, _("Other")),
            (Member.Gender.UNSPECIFIED, _("Prefer not to say")),
        ]
        self.fields["first_name"].required = self.fields["last_name"].required = True


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label=_("New e-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class PinForm(forms.Form):
    pin = forms.CharField(
        label=_("New PIN (4 to 8 digits)"),
        strip=True,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )
    pin2 = forms.CharField(
        label=_("New PIN again"),
        strip=True,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )

    def __init__(self, *args, min_length: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_length = min_length  # the chain's pin_min_length

    def clean_pin(self):
        validate_pin(self.cleaned_data["pin"], min_length=self.min_length)
        return self.cleaned_data["pin"]

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin") != data.get("pin2"):
            self.add_error("pin2", _("The two PINs differ."))
        return data


class DataSubjectRequestForm(forms.Form):
    ERASURE = "erasure"
    CHOICES = [
        (ERASURE, _("Erase my whole account and everything held about me")),
        ("objection:statistics", _("Object to the use of my check-ins in statistics")),
        ("objection:marketing", _("Object to direct marketing")),
    ]
    what = forms.ChoiceField(label=_("Your request"), choices=CHOICES, widget=forms.RadioSelect)
    message = forms.CharField(
        label=_("Anything you want to add (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def kind_and_objection(self) -> tuple[str, str]:
        kind, _sep, objection = self.cleaned_data["what"].partition(":")
        return (DataSubjectRequest.Kind(kind), objection)

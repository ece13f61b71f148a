from django import forms
from django.utils.translation import gettext_lazy as _

from consent.enrollment import MAX_PHOTO_BYTES


class SignForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Your full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    # Required and never pre-ticked: consent is an act, not a default.
    agree = forms.BooleanField(label=_("I have read the text above and I agree."), required=True)

    def __init__(self, *args, guardian: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if guardian:
            self.fields["guardian_name"] = forms.CharField(label=_("Parent or guardian's full name"), max_length=200)
            self.fields["guardian_email"] = forms.EmailField(label=_("Parent or guardian's e-mail"))


class DeskSignForm(SignForm):
    password = forms.CharField(
        label=_("Your portal password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )


class GuardianForm(forms.Form):
    typed_name = forms.CharField(label=_("Your full name"), max_length=200)
    agree = forms.BooleanField(label=_("I am the parent or guardian and I confirm this consent."), required=True)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo of your face"), widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "user"})
    )

    def clean_photo(self):
        photo = self.cleaned_data["photo"]
        if photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is too large. Use one under 8 MB."))
        return photo.read()


class ApproveFaceForm(forms.Form):
    # Never pre-ticked: approving enrolls this face as the member's, so it is a deliberate act.
    confirm = forms.BooleanField(
        label=_(
            "I have compared the new photo with the member (their enrollment photo, or the member in person) "
            "and it is the same person."
        ),
        required=True,
    )

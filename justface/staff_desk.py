"""The staff member's own language for the admin and the desk pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from justface.staff_pages import render_staff, staff_page


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("The browser's language"))] + list(settings.LANGUAGES),
    )


@staff_page(None)
def language(request):
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        request.user.language = form.cleaned_data["language"]
        request.user.save(update_fields=["language"])
        translation.activate(request.user.language or settings.LANGUAGE_CODE)
        messages.success(request, _("Your language is saved."))
        return redirect("admin:index")
    return render_staff(request, "staff/language.html", {"form": form}, title=_("My language"))

"""Exclusions (quarantines) in the admin."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from justface.widgets import IsoDateInput
from members.models import Exclusion


class ExclusionForm(forms.ModelForm):
    """The person's e-mail, phone and birth date are asked for only to keep their keyed hashes
    (the membership check matches on them); the values themselves are not stored. With a member
    chosen, everything comes from the member's record."""

    email = forms.EmailField(label=_("E-mail (only its keyed hash is kept)"), required=False)
    phone = forms.CharField(label=_("Phone (only its keyed hash is kept)"), required=False)
    birth_date = forms.DateField(
        label=_("Birth date (only a keyed hash with the name is kept)"), required=False, widget=IsoDateInput()
    )

    class Meta:
        model = Exclusion
        fields = ["member", "member_number", "full_name", "category", "reason", "starts_on", "ends_on", "letter"]

    def __init__(self, *args, chain_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if chain_id is not None and self.instance.pk is None:
            self.instance.chain_id = chain_id  # the chain's limits apply in Exclusion.clean
        if "full_name" in self.fields:  # a reader (the DPO) gets no fields to edit
            self.fields["full_name"].required = False
        if "member" in self.fields:
            self.fields["member"].help_text = _("Or leave empty and type the person's details.")

    def clean(self):
        data = super().clean()
        member = data.get("member")
        if member is not None:
            data["member_number"], data["full_name"] = member.member_number, member.full_name
            self.instance.member_number, self.instance.full_name = member.member_number, member.full_name
        elif not data.get("full_name"):
            self.add_error("full_name", _("Choose a member or type the person's full name."))
        return data


@admin.register(Exclusion)
class ExclusionAdmin(ScopedAdmin):
    """The chain's exclusion (quarantine) list: managers keep it, the DPO reads it, the front desk
    does not see it (it meets a match as a warning when creating or inviting a member). Every list
    and detail view is an audit entry; the reason's text and the letter are encrypted."""

    view_perm = Perm.EXPORT_MEMBERS  # manager and DPO
    change_perm = add_perm = delete_perm = Perm.EDIT_CHAIN_SETUP  # manager (ending one early: delete)
    audit_list_action, audit_view_action = "exclusion.list", "exclusion.view"
    form = ExclusionForm
    list_display = ["id", "member_number", "full_name", "category", "starts_on", "ends_on"]
    list_filter = ["category"]
    readonly_fields = ["created_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        scope = self.scope(request)

        class ScopedExclusionForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, chain_id=None if scope.is_platform else scope.chain_id, **kw)

        return ScopedExclusionForm

    def get_fields(self, request, obj=None):
        fields = [
            "member",
            "member_number",
            "full_name",
            "email",
            "phone",
            "birth_date",
            "category",
            "reason",
            "starts_on",
            "ends_on",
            "letter",
        ]
        return (["chain"] if self.scope(request).is_platform and obj is None else []) + fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        member = data.get("member")
        if member is not None:
            obj.set_identity(
                email=member.email,
                phone=member.phone,
                first_name=member.first_name,
                last_name=member.last_name,
                birth_date=member.birth_date,
            )
        elif any(data.get(f) for f in ("email", "phone", "birth_date")) or not change:
            obj.set_identity(
                email=data.get("email") or "",
                phone=data.get("phone") or "",
                first_name=obj.full_name,
                birth_date=data.get("birth_date"),
            )
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

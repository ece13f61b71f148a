"""Integration keys in the admin: a chain's manager issues one (the secret is shown once, on the
page that follows) and revokes it; the list shows scopes and when each key was last used."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from integration import keys
from integration.models import IntegrationKey, Scope
from justface.admin_scoping import ScopedAdmin
from members.models import Chain


class IssueKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = IntegrationKey
        fields = ["chain", "label", "scopes"]


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(ScopedAdmin):
    list_display = ["__str__", "chain", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["chain"]
    readonly_fields = ["chain", "label", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = IssueKeyForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["chain", "label", "scopes"] if self.scope(request).is_platform else ["label", "scopes"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # Nothing of a key changes after it is issued; the revoke action needs the right.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row keeps when the key was last used

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: IntegrationKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        """Issue through the service (hashed, audited); the secret waits for response_add."""
        scope = self.scope(request)
        chain = obj.chain if scope.is_platform else Chain.objects.get(pk=scope.chain_id)
        key, raw = keys.issue_key(chain=chain, scopes=form.cleaned_data["scopes"], label=obj.label, actor=request.user)
        obj.pk, obj._raw = key.pk, raw

    def log_addition(self, request, obj, message):
        pass  # keys.issue_key wrote the audit entry

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/integration/integrationkey/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Integration key issued"),
                "key": IntegrationKey.objects.get(pk=obj.pk),
                "raw": obj._raw,
                "opts": self.model._meta,
            },
        )
        add_never_cache_headers(response)  # the key must not linger in any cache
        return response

    @admin.action(description=_("Revoke selected keys (immediately)"))
    def revoke(self, request, queryset):
        if not self.scope(request).can(self.change_perm):
            self.message_user(request, _("Your role may not revoke keys."), messages.ERROR)
            return
        revoked = sum(keys.revoke_key(key=key, actor=request.user) for key in queryset)
        self.message_user(
            request, _("%(count)s key(s) revoked; they are refused from now on.") % {"count": revoked}, messages.SUCCESS
        )

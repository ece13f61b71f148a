"""Chains, centres and staff users with their roles, in the admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from justface.admin_scoping import ScopedAdmin
from justface.models import User
from members import selectors, setup_forms
from members.models import Centre, Chain, StaffRole


@admin.register(Chain)
class ChainAdmin(ScopedAdmin):
    list_display = ["name", "slug", "country", "default_language", "face_models"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["gallery_version", "created_at", "face_models"]
    form = setup_forms.ChainForm  # the policy as form fields, not a JSON box

    def get_fieldsets(self, request, obj=None):
        if not self.has_change_permission(request, obj):  # readers: the policy in words
            return [(None, {"fields": [*self._chain_fields(), "policy_in_words"]})]
        return [(None, {"fields": self._chain_fields()}), (_("Policy"), {"fields": setup_forms.POLICY_FIELD_NAMES})]

    def _chain_fields(self):
        return ["name", "slug", "organisation_number", "country", "default_language", "dpo_name", "dpo_email",
                "gallery_version", "created_at", "face_models"]  # fmt: skip

    @admin.display(description=_("Policy"))
    def policy_in_words(self, obj: Chain):
        policy = obj.policy
        return format_html_join(
            "", "<div>{}: <strong>{}</strong></div>",
            ((label, _("yes") if v is True else _("no") if v is False else v)
             for name, label in setup_forms.POLICY_LABELS.items() for v in [getattr(policy, name)]),
        )  # fmt: skip

    @admin.display(description=_("Members enrolled, by face model"))
    def face_models(self, obj: Chain) -> str:
        """How far a move between face models has come (counts only: no personal data)."""
        counts = selectors.face_models_by_chain([obj.pk]).get(obj.pk, {})
        if not counts:
            return "–"
        active = " (%s)" % _("active")
        return ", ".join(f"{model}{active if model == settings.FACE_MODEL else ''}: {n}" for model, n in counts.items())

    def has_add_permission(self, request):
        return self.scope(request).is_platform

    def has_delete_permission(self, request, obj=None):
        return False  # a chain's data is erased by retention, not by a click


@admin.register(Centre)
class CentreAdmin(ScopedAdmin):
    form = setup_forms.CentreForm  # opening hours one line per day, not JSON
    list_display = ["name", "chain", "time_zone", "language", "liveness"]
    list_filter = ["chain"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRoleInline(admin.StackedInline):
    model = StaffRole
    can_delete = True
    filter_horizontal = ["centres"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Logins are the platform operator's to manage; a staff login gets its chain and role here."""

    inlines = [StaffRoleInline]

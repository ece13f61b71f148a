from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from justface import display
from justface.admin_display import code_filter
from justface.admin_scoping import ScopedAdmin
from justface.models import AuditEntry, User
from justface.staff_login import StaffAuthenticationForm
from justface.tenancy import Perm

# The one way staff sign in: every attempt goes through the guessing limiter.
admin.site.login_form = StaffAuthenticationForm
# "View site" led back to the admin (staff land there): the staff desk is linked beside the user links instead.
admin.site.site_url = None


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    """Read-only for the DPO (their chain) and the platform operator (all)."""

    view_perm = Perm.VIEW_AUDIT
    change_perm = add_perm = delete_perm = None
    # Fits a 1366 px laptop: the request id is on the entry's page and searchable.
    list_display = ["at_local", "action_label", "actor", "object_label", "reason"]
    list_filter = [code_filter("action", "audit.action", _("action"), display.audit_action), "actor_kind"]
    date_hierarchy = "at"
    search_fields = ["=object_id", "=request_id", "=action"]
    actions = None

    def get_queryset(self, request):
        names = User.objects.filter(pk=OuterRef("actor_id")).values("username")[:1]
        return super().get_queryset(request).annotate(actor_name=Subquery(names))

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, entry):
        return display.audit_action(entry.action)

    @admin.display(description=_("by"))
    def actor(self, entry):
        """The staff member's user name (members and systems by their kind only: no personal data)."""
        kind = entry.get_actor_kind_display()
        if entry.actor_kind == AuditEntry.ActorKind.INTEGRATION and entry.actor_id is not None:
            return f"{kind} #{entry.actor_id}"  # the key's id, never its secret
        if entry.actor_id is None or entry.actor_kind not in (
            AuditEntry.ActorKind.STAFF,
            AuditEntry.ActorKind.PLATFORM,
        ):
            return kind
        return f"{getattr(entry, 'actor_name', None) or '#' + str(entry.actor_id)} ({str(kind).lower()})"

    @admin.display(description=_("at"), ordering="at")
    def at_local(self, entry):
        return display.when_short(entry.at)

    @admin.display(description=_("object"), ordering="object_type")
    def object_label(self, entry):
        model = entry.object_type.rpartition(".")[2]
        if not model:
            return display.EMPTY
        return f"{display.label('audit.object', model)} {entry.object_id}".strip()

    def log_change(self, request, obj, message):  # nothing can change here; never log
        pass

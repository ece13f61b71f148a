from django.contrib import admin

from justface.admin_scoping import ScopedAdmin
from justface.models import AuditEntry
from justface.staff_login import StaffAuthenticationForm
from justface.tenancy import Perm

# The one way staff sign in: every attempt goes through the guessing limiter.
admin.site.login_form = StaffAuthenticationForm


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    """Read-only for the DPO (their chain) and the platform operator (all)."""

    view_perm = Perm.VIEW_AUDIT
    change_perm = add_perm = delete_perm = None
    list_display = [
        "at",
        "action",
        "actor_kind",
        "actor_id",
        "object_type",
        "object_id",
        "chain_id",
        "reason",
        "request_id",
    ]
    list_filter = ["action", "actor_kind"]
    date_hierarchy = "at"
    search_fields = ["=object_id", "=request_id", "=action"]
    actions = None

    def log_change(self, request, obj, message):  # nothing can change here; never log
        pass

from django.contrib import admin

from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from access.models import AccessEvent, Door


@admin.register(Door)
class DoorAdmin(ScopedAdmin):
    list_display = ["name", "centre", "created_at"]
    list_filter = ["centre"]
    search_fields = ["name"]
    autocomplete_fields = ["centre"]


@admin.register(AccessEvent)
class AccessEventAdmin(ScopedAdmin):
    """Check-ins are written by the door services only; staff read them."""

    view_perm = Perm.VIEW_MEMBERS
    change_perm = add_perm = delete_perm = None
    list_display = ["at", "centre", "door", "member_id", "method", "direction", "decision", "reason"]
    list_filter = ["decision", "method", "direction", "centre"]
    date_hierarchy = "at"

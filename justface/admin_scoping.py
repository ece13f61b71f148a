"""The admin's side of tenancy: every model admin of chain-owned data derives from ScopedAdmin,
which asks justface.tenancy for lists, detail pages, search, autocomplete, filters, foreign-key
choices and writes, and writes to the audit trail instead of Django's LogEntry (whose
object_repr would keep names in clear)."""

from django.contrib import admin
from django.contrib.admin.filters import AllValuesFieldListFilter, RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models

from justface import audit
from justface.tenancy import Perm, Scope, scope_for


class ScopedAllValuesFieldListFilter(AllValuesFieldListFilter):
    """The values of a field across a relation (`document__title`), taken from the admin's own
    scoped rows; the stock filter reads the whole related table."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request).distinct().order_by(field_path).values_list(field_path, flat=True)
        )


class ScopedAdmin(admin.ModelAdmin):
    view_perm: Perm = Perm.VIEW_CHAIN_SETUP
    change_perm: Perm | None = Perm.EDIT_CHAIN_SETUP
    add_perm: Perm | None = Perm.EDIT_CHAIN_SETUP
    delete_perm: Perm | None = Perm.EDIT_CHAIN_SETUP
    # Admins of personal data name these: every list and detail page a staff member is shown
    # is then on the audit trail.
    audit_list_action: str | None = None
    audit_view_action: str | None = None

    def scope(self, request) -> Scope:
        return scope_for(request.user)

    def _allowed(self, request, perm: Perm | None, obj=None) -> bool:
        scope = self.scope(request)
        if perm is None or not scope.can(perm):
            return False
        return obj is None or scope.contains(obj)

    def has_module_permission(self, request):
        return self._allowed(request, self.view_perm)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_perm, obj) or self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.change_perm, obj)

    def has_add_permission(self, request):
        return self._allowed(request, self.add_perm)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, self.delete_perm, obj)

    def get_queryset(self, request):
        return self.scope(request).filter(super().get_queryset(request))

    def _scoped_choices(self, db_field, request, kwargs):
        related = db_field.related_model
        if hasattr(related, "tenancy_chain_path") and "queryset" not in kwargs:
            kwargs["queryset"] = self.scope(request).filter(related._default_manager.all())
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def get_list_filter(self, request):
        return [self._scoped_filter(spec) for spec in super().get_list_filter(request)]

    def _scoped_filter(self, spec):
        """Django's stock filters read every row of a related table (other chains' included),
        also through `__` paths (`door__centre`): offer only values of rows in this admin's
        scoped queryset. A SimpleListFilter makes its own lookups (tests walk every admin's)."""
        path, chosen = (spec, None) if isinstance(spec, str) else spec if isinstance(spec, tuple) else (None, spec)
        if path is None:
            return spec
        field = get_fields_from_path(self.model, path)[-1]
        if field.is_relation:
            if chosen is None or chosen is RelatedFieldListFilter:
                return (path, RelatedOnlyFieldListFilter)
        elif (
            chosen is None
            and "__" in path
            and not (field.choices or isinstance(field, models.BooleanField | models.DateField))
        ):
            return (path, ScopedAllValuesFieldListFilter)
        return spec

    def _field(self, path: str):
        try:
            return self.model._meta.get_field(path)
        except FieldDoesNotExist:
            return None

    def save_model(self, request, obj, form, change):
        scope = self.scope(request)
        if not change and not scope.is_platform and hasattr(obj, "chain_id") and self._field("chain"):
            obj.chain_id = scope.chain_id
        if not scope.contains(obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.audit_list_action and getattr(response, "status_code", None) == 200:
            audit.record(
                action=self.audit_list_action,
                actor=request.user,
                object_type=self.model._meta.label_lower,
                chain_id=self.scope(request).chain_id,
                reason=self.audit_list_reason(request),
            )
        return response

    def audit_list_reason(self, request) -> str:
        """What the audit entry of a list page says (never a search term: it may be a name)."""
        return "admin list"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.audit_view_action and request.method == "GET" and getattr(response, "status_code", None) == 200:
            obj = self.get_object(request, object_id)
            # Rows held through the member (consent records) have no chain column of their own.
            audit.record(
                action=self.audit_view_action,
                actor=request.user,
                obj=obj,
                chain_id=getattr(obj, "chain_id", None) or self.scope(request).chain_id,
                reason="admin detail",
            )
        return response

    # Our audit trail replaces django_admin_log for scoped models.
    def log_addition(self, request, obj, message):
        audit.record(action=f"{obj._meta.model_name}.add", actor=request.user, obj=obj, reason="admin")

    def log_change(self, request, obj, message):
        changed = (
            sorted({f for entry in message if "changed" in entry for f in entry["changed"].get("fields", [])})
            if isinstance(message, list)
            else []
        )
        audit.record(
            action=f"{obj._meta.model_name}.change",
            actor=request.user,
            obj=obj,
            reason=("fields: " + ", ".join(changed))[:255] if changed else "admin",
        )

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit.record(action=f"{obj._meta.model_name}.delete", actor=request.user, obj=obj, reason="admin")

"""The chain's processors and recipients in the admin (the data-subject request desk, erasure
included, is members.admin.requests)."""

from django.contrib import admin

from justface.admin_scoping import ScopedAdmin
from retention.models import Processor


@admin.register(Processor)
class ProcessorAdmin(ScopedAdmin):
    """The chain's processors and recipients, listed in its processing register. Managers edit,
    the DPO reads (justface.tenancy: EDIT_CHAIN_SETUP / VIEW_CHAIN_SETUP)."""

    list_display = ["name", "service", "country", "outside_eu", "agreement_signed_on"]
    list_filter = ["outside_eu"]
    fields = ["name", "service", "country", "outside_eu", "safeguard", "agreement_signed_on"]

    def get_fields(self, request, obj=None):
        # Staff add to their own chain (ScopedAdmin.save_model); the operator picks one.
        return (["chain"] if self.scope(request).is_platform else []) + self.fields

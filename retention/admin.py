from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from members.models import DataSubjectRequest
from retention import services
from retention.models import ErasureRequest, Processor


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ScopedAdmin):
    """Open erasure requests, oldest deadline first, with the one action that carries them out."""

    view_perm = Perm.ANSWER_REQUESTS
    change_perm = add_perm = delete_perm = None
    audit_list_action, audit_view_action = "erasurerequest.list", "erasurerequest.view"
    list_display = ["id", "received_at", "due_at", "status"]
    actions = ["erase_now"]

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .filter(kind=DataSubjectRequest.Kind.ERASURE, status__in=DataSubjectRequest.OPEN_STATUSES, member__isnull=False)
                .order_by("due_at"))

    @admin.action(description=_("Erase these members' accounts now (cannot be undone)"))
    def erase_now(self, request, queryset):
        chosen = list(queryset.select_related("member"))
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/retention/confirm_erasure.html", {
                **self.admin_site.each_context(request), "title": _("Erase these accounts?"), "requests": chosen,
                "opts": self.model._meta, "action": "erase_now"})
        erased = 0
        for dsr in chosen:
            try:
                services.carry_out_erasure_request(request=dsr, actor=request.user)
                erased += 1
            except ValidationError as error:
                self.message_user(request, _("Request %(id)s: %(problem)s") % {"id": dsr.pk, "problem": " ".join(error.messages)}, messages.WARNING)
        self.message_user(request, _("Erased %(count)s account(s); the requests are answered.") % {"count": erased}, messages.SUCCESS)
        return None


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

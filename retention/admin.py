from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from justface import audit, personal_data
from justface.admin_scoping import ScopedAdmin
from members.admin import DataSubjectRequestAdmin
from members.models import DataSubjectRequest
from retention import services
from retention.models import Processor


def receipt_lines(receipt: dict) -> list[tuple[str, str]]:
    """(label, value) for each count of a stored receipt, in the order and with the labels the
    personal-data registry's categories declare (justface.personal_data.receipt_labels)."""

    def shown(value) -> str:
        return str(_("yes") if value else _("no")) if isinstance(value, bool) else str(value)

    labels = personal_data.receipt_labels()
    known = [(str(label), shown(receipt[key])) for key, label in labels.items() if key in receipt]
    return known + [(key, shown(value)) for key, value in receipt.items() if key not in labels]


@admin.register(DataSubjectRequest)
class RequestDeskAdmin(DataSubjectRequestAdmin):
    """The requests desk (members.admin) with an erasure request's last step on the request's own
    page: one screen from receipt to done. The erase button leads to a confirmation page; its
    POST runs retention.services.carry_out_erasure_request (the confirmation e-mailed first, the
    erasure, the answer, the receipt), the one path every erasure request takes. Who may erase:
    whoever may answer the request (ANSWER_REQUESTS: managers and the DPO of its chain)."""

    change_form_template = "admin/retention/request_change_form.html"

    def get_urls(self):
        erase = path(
            "<path:object_id>/erase/",
            self.admin_site.admin_view(self.erase_view),
            name="members_datasubjectrequest_erase",
        )
        return [erase, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and obj.kind == DataSubjectRequest.Kind.ERASURE:
            extra_context = {**(extra_context or {}), "erasure": self.erasure_step(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def erasure_step(self, request, obj: DataSubjectRequest) -> dict:
        """What the page's Erasure section shows: done (with the receipt), refused, or why it
        cannot run, or the button to the confirmation."""
        step = {"status": obj.status, "receipt": receipt_lines(obj.erasure_receipt)}
        if obj.status == DataSubjectRequest.Status.DONE:
            step["erased_on"] = f"{timezone.localtime(obj.resolved_at):%Y-%m-%d %H:%M}" if obj.resolved_at else ""
            return step
        if obj.status == DataSubjectRequest.Status.REFUSED:
            return step
        step["problem"] = services.erasure_request_problem(request=obj)
        step["can_erase"] = not step["problem"] and self.has_change_permission(request, obj)
        step["erase_url"] = reverse("admin:members_datasubjectrequest_erase", args=[obj.pk])
        return step

    def erase_view(self, request, object_id):
        """GET: the confirmation page. POST (confirmed): the erasure; then back to the request's
        page with the outcome on top (never half-done: a failed e-mail erases nothing)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404  # another chain's request does not exist for this user
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:members_datasubjectrequest_change", args=[obj.pk]))
        if request.method == "POST" and request.POST.get("confirmed") == "yes":
            try:
                services.carry_out_erasure_request(request=obj, actor=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    _("Nothing was erased: %(problem)s") % {"problem": " ".join(error.messages)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("The account is erased and the request is answered; the receipt is under Erasure."),
                    messages.SUCCESS,
                )
            return back
        problem = services.erasure_request_problem(request=obj)
        if problem:
            self.message_user(request, problem, messages.ERROR)
            return back
        # The page names the member and where the e-mail goes: a look at personal data, audited.
        audit.record(action="dsr.view", actor=request.user, obj=obj, reason="erasure confirmation")
        return TemplateResponse(
            request,
            "admin/retention/confirm_erasure.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Erase this account?"),
                "dsr": obj,
                "opts": self.model._meta,
                "answer_to": obj.answer_to,
                "identity_unchecked": not obj.identity_checked,
            },
        )


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

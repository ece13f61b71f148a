"""The data-subject request desk, one admin screen from receipt to receipt: the identity check,
the deadline, the outcome and, for an erasure request, the erasure and its receipt."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from justface import audit, personal_data
from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from members import services
from members.models import Chain, DataSubjectRequest


def receipt_lines(receipt: dict) -> list[tuple[str, str]]:
    """(label, value) for each count of a stored receipt, in the order and with the labels the
    personal-data registry's categories declare (justface.personal_data.receipt_labels)."""

    def shown(value) -> str:
        return str(_("yes") if value else _("no")) if isinstance(value, bool) else str(value)

    labels = personal_data.receipt_labels()
    known = [(str(label), shown(receipt[key])) for key, label in labels.items() if key in receipt]
    return known + [(key, shown(value)) for key, value in receipt.items() if key not in labels]


class DueFilter(admin.SimpleListFilter):
    """What the DPO and managers look at first: due this week, overdue, still open, closed."""

    title = _("deadline")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("week", _("Due within 7 days")),
            ("overdue", _("Overdue")),
            ("open", _("Open")),
            ("closed", _("Closed")),
        ]

    def queryset(self, request, queryset):
        now, open_ = timezone.now(), {"status__in": DataSubjectRequest.OPEN_STATUSES}
        return {
            "week": lambda: queryset.filter(**open_, due_at__gte=now, due_at__lt=now + timedelta(days=7)),
            "overdue": lambda: queryset.filter(**open_, due_at__lt=now),
            "open": lambda: queryset.filter(**open_),
            "closed": lambda: queryset.exclude(**open_),
        }.get(self.value(), lambda: queryset)()


class RecordRequestForm(forms.ModelForm):
    """A request received by e-mail, letter, phone or at the desk, for a member or a person not
    (yet) identified."""

    class Meta:
        model = DataSubjectRequest
        fields = [
            "member",
            "requester_name",
            "requester_email",
            "kind",
            "objection_to",
            "channel",
            "received_at",
            "identity_checked",
            "identity_note",
            "message",
        ]


class HandleRequestForm(forms.ModelForm):
    """The identity check, progress, the outcome (e-mailed to the person), or an extension (its
    reason e-mailed)."""

    confirm_identity = forms.BooleanField(label=_("The person's identity is now checked"), required=False)
    identity_note_text = forms.CharField(
        label=_("How the identity was checked"),
        required=False,
        help_text=_("E.g. passport seen at the desk (no copies of documents)."),
    )
    extend_by_months = forms.TypedChoiceField(
        label=_("Extend the deadline by"),
        required=False,
        coerce=int,
        empty_value=0,
        choices=[("", "–"), (1, _("1 month")), (2, _("2 months"))],
    )
    extension_reason_text = forms.CharField(
        label=_("Reason for the extension (sent to the person)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lift_restriction_now = forms.BooleanField(
        label=_("Lift the restriction now"),
        required=False,
        help_text=_(
            "Face entry, statistics and marketing use the member's data again. The member is told by "
            "e-mail first; if that fails, the restriction stays."
        ),
    )
    send_email = forms.BooleanField(
        label=_("E-mail the outcome to the person"),
        required=False,
        initial=True,
        help_text=_("Untick only if the answer went by letter or at the desk."),
    )

    class Meta:
        model = DataSubjectRequest
        fields = ["status", "response"]


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ScopedAdmin):
    """The requests desk: every request, oldest deadline first, filtered by what is due this week,
    overdue or closed. Managers and the DPO record requests received by any channel; a request's
    own page shows its life in order (received, deadline, answer and outcome e-mail) and records
    each step: the identity check, progress, an extension (the reason is e-mailed), the outcome
    (e-mailed first; a failed e-mail leaves it open with the failure shown).

    An erasure request's last step is on the same page: the erase button leads to a confirmation
    page; its POST runs members.services.carry_out_erasure_request (the confirmation e-mailed
    first, the erasure through the personal-data registry, the answer, the receipt), the one path
    every erasure request takes. Who may erase: whoever may answer the request (ANSWER_REQUESTS:
    managers and the DPO of its chain)."""

    view_perm = Perm.EXPORT_MEMBERS  # the chain-wide roles (manager, DPO), not the front desk
    change_perm = add_perm = Perm.ANSWER_REQUESTS
    delete_perm = None
    audit_list_action, audit_view_action = "dsr.list", "dsr.view"
    list_display = [
        "id",
        "kind",
        "objection_to",
        "channel",
        "status",
        "received_at",
        "due_at",
        "days_left",
        "member_number",
        "email_problem",
    ]
    list_filter = [DueFilter, "status", "kind", "channel"]
    readonly_fields = [
        "member_number",
        "requester_name",
        "requester_email",
        "kind",
        "objection_to",
        "channel",
        "message",
        "identity_checked",
        "identity_note",
        "received_at",
        "due_at",
        "days_left",
        "deadline_rule",
        "extension_reason",
        "extended_at",
        "outcome_email",
        "resolved_at",
        "handled_by",
        "restriction_state",
    ]
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "chain").order_by("due_at")

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = RecordRequestForm if obj is None else HandleRequestForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": RecordRequestForm.Meta.fields})]
        steps = self.request_steps(obj)
        return [(title, {"fields": fields}) for title, fields in steps if fields]

    def request_steps(self, obj: DataSubjectRequest) -> list[tuple[str, list[str]]]:
        """The sections of a request's page, in the order its life runs; each shows what happened
        and, while the request is open, the fields that record the next step."""
        open_ = obj.is_open
        received = [
            "member_number",
            "requester_name",
            "requester_email",
            "kind",
            "objection_to",
            "channel",
            "received_at",
            "message",
            "identity_checked",
            "identity_note",
        ]
        if open_ and not obj.identity_checked:
            received += ["confirm_identity", "identity_note_text"]
        deadline = ["due_at", "days_left", "deadline_rule", "extension_reason", "extended_at"]
        if open_:
            deadline += ["extend_by_months", "extension_reason_text"]
        answer = (
            ["status", "response"] + (["send_email"] if open_ else []) + ["outcome_email", "resolved_at", "handled_by"]
        )
        steps = [(_("Received"), received), (_("Deadline"), deadline), (_("Answer and outcome e-mail"), answer)]
        if obj.kind == DataSubjectRequest.Kind.RESTRICTION and obj.member_id:
            # Open or closed: a restriction lasts until staff lift it here (Art. 18(3)).
            lift = ["lift_restriction_now"] if obj.member.restricted_since is not None else []
            steps.append((_("Restriction"), ["restriction_state", *lift]))
        return steps

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.readonly_fields + ([] if obj.is_open else ["status", "response"])

    @admin.display(description=_("restriction"))
    def restriction_state(self, obj: DataSubjectRequest) -> str:
        since = obj.member.restricted_since if obj.member_id else None
        if since is None:
            return str(_("Not in force: the member's data is used as before."))
        return _("In force since %(when)s: face entry paused, no statistics or marketing use.") % {
            "when": f"{timezone.localtime(since):%Y-%m-%d %H:%M}"
        }

    @admin.display(description=_("days left"), ordering="due_at")
    def days_left(self, obj: DataSubjectRequest) -> str:
        if not obj.is_open:
            return str(_("answered"))
        days = (obj.due_at - timezone.now()).days
        return _("OVERDUE by %(days)s day(s)") % {"days": -days} if days < 0 else str(days)

    @admin.display(description=_("deadline rule"))
    def deadline_rule(self, obj: DataSubjectRequest) -> str:
        return _(
            "One calendar month after receipt; it can be extended, with a reason sent to the person, "
            "to %(latest)s at the latest."
        ) % {"latest": f"{timezone.localtime(obj.latest_allowed_due()):%Y-%m-%d}"}

    @admin.display(description=_("outcome e-mail"))
    def outcome_email(self, obj: DataSubjectRequest) -> str:
        """Where the answer goes and whether it got there (the failure keeps the request open)."""
        if obj.outcome_sent_at:
            return _("Sent on %(when)s.") % {"when": f"{timezone.localtime(obj.outcome_sent_at):%Y-%m-%d %H:%M}"}
        if obj.email_error:
            return _(
                "FAILED: %(error)s. The request stays open: try again, or answer by letter and close it without e-mail."
            ) % {"error": obj.email_error}
        if not obj.is_open:
            return str(_("Not e-mailed (answered by letter or at the desk)."))
        if not obj.answer_to:
            return str(_("No e-mail address: answer by letter and close the request without e-mail."))
        if obj.kind == DataSubjectRequest.Kind.ERASURE and obj.member_id:
            return _("The erasure below e-mails the confirmation to %(address)s before anything is erased.") % {
                "address": obj.answer_to
            }
        return _("Sent to %(address)s when you close the request, before it is closed.") % {"address": obj.answer_to}

    @admin.display(description=_("member number"))
    def member_number(self, obj: DataSubjectRequest) -> str:
        if obj.member:
            return obj.member.member_number
        return (
            _("(erased)")
            if obj.kind == DataSubjectRequest.Kind.ERASURE and not obj.is_open
            else _("(not a known member)")
        )

    @admin.display(description=_("e-mail"))
    def email_problem(self, obj: DataSubjectRequest) -> str:
        return _("FAILED: %(error)s") % {"error": obj.email_error} if obj.email_error else ""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A valid POST is one step of the desk: record_step or take_step runs it through the
        services and its own answer decides where the page goes. The steps run outside the stock
        view's save transaction, so a refused step keeps what its service noted (a failed e-mail).
        GETs and forms with errors are the stock page."""
        if request.method != "POST" or IS_POPUP_VAR in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id)) if object_id is not None else None
        if object_id is not None and obj is None:
            return super().changeform_view(request, object_id, form_url, extra_context)  # "does not exist"
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return super().changeform_view(request, object_id, form_url, extra_context)
        if obj is None:
            saved = self.record_step(request, form.cleaned_data)
            if saved is None:  # refused (its message is shown): nothing was recorded
                return HttpResponseRedirect(reverse("admin:members_datasubjectrequest_changelist"))
            return self.response_add(request, saved)
        if self.take_step(request, obj, form.cleaned_data):
            return self.response_change(request, obj)
        # Not "changed successfully" under a refusal: back to the request, the message on top.
        return HttpResponseRedirect(reverse("admin:members_datasubjectrequest_change", args=[obj.pk]))

    def record_step(self, request, data: dict) -> DataSubjectRequest | None:
        """A request received by any channel; None when the service refused it."""
        scope = self.scope(request)
        chain = data["member"].chain if data.get("member") else Chain.objects.get(pk=scope.chain_id)
        if not scope.is_platform and chain.pk != scope.chain_id:
            raise PermissionDenied
        try:
            return services.record_data_subject_request(
                chain=chain,
                actor=request.user,
                **{f: data.get(f) for f in RecordRequestForm.Meta.fields if f in data},
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None

    def take_step(self, request, obj: DataSubjectRequest, data: dict) -> bool:
        """The steps the handling form asks for, in the page's order; False when one was refused
        (its message is shown, and the service changed nothing but an e-mail failure it noted)."""
        if not self.scope(request).contains(obj):
            raise PermissionDenied
        fresh = DataSubjectRequest.objects.select_related("member", "chain").get(pk=obj.pk)
        try:
            if data.get("lift_restriction_now"):
                if fresh.kind != DataSubjectRequest.Kind.RESTRICTION or fresh.member is None:
                    raise PermissionDenied
                emailed = services.lift_restriction(
                    member=fresh.member, actor=request.user, reason=f"request {fresh.pk}"
                )
                self.message_user(
                    request,
                    _("The restriction is lifted; the member was told by e-mail.")
                    if emailed
                    else _("The restriction is lifted. The member has no e-mail address: tell them by letter."),
                    messages.SUCCESS,
                )
            if "status" not in data:
                return True  # an answered request: lifting its restriction was the only step left
            if data.get("confirm_identity"):
                services.record_identity_check(
                    request=fresh, note=data.get("identity_note_text", ""), actor=request.user
                )
                self.message_user(request, _("The identity check is recorded."), messages.SUCCESS)
            if data.get("extend_by_months"):
                services.extend_deadline(
                    request=fresh,
                    months=data["extend_by_months"],
                    reason=data.get("extension_reason_text", ""),
                    actor=request.user,
                )
                self.message_user(request, _("Deadline extended; the reason was e-mailed."), messages.SUCCESS)
            if data["status"] in DataSubjectRequest.OPEN_STATUSES:
                services.resolve_data_subject_request(
                    request=fresh, status=data["status"], response=data["response"], actor=request.user
                )
                return True
            if (
                fresh.kind == DataSubjectRequest.Kind.ERASURE
                and data["status"] == DataSubjectRequest.Status.DONE
                and fresh.member_id
            ):
                # Completed means erased: only the erasure (its own step, with a confirmation) closes it.
                self.message_user(
                    request,
                    _(
                        "An erasure request is completed by the erasure itself: use "
                        "“Erase this account” under Erasure on this page."
                    ),
                    messages.WARNING,
                )
                return False
            services.close_data_subject_request(
                request=fresh,
                status=data["status"],
                response=data["response"],
                actor=request.user,
                send_email=data.get("send_email", False),
            )
            self.message_user(request, _("The request is closed."), messages.SUCCESS)
            return True
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return False

    def save_model(self, request, obj, form, change):
        # Never reached (changeform_view takes every valid POST); the stock save would bypass
        # the services and their audit entries.
        raise PermissionDenied

    change_form_template = "admin/members/request_change_form.html"

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
            "admin/members/confirm_erasure.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Erase this account?"),
                "dsr": obj,
                "opts": self.model._meta,
                "answer_to": obj.answer_to,
                "identity_unchecked": not obj.identity_checked,
            },
        )

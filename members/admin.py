import csv
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from justface import audit
from justface.admin_scoping import ScopedAdmin
from justface.exports import spreadsheet_row
from justface.models import User
from justface.tenancy import Perm
from justface.widgets import IsoDateInput
from members import selectors, services, setup_forms
from members.models import Centre, Chain, DataSubjectRequest, Exclusion, Invitation, Member, StaffRole

admin.site.site_header = "Justface"
admin.site.site_title = "Justface"
admin.site.index_title = _("Staff administration")


@admin.register(Chain)
class ChainAdmin(ScopedAdmin):
    list_display = ["name", "slug", "country", "default_language", "face_models"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["gallery_version", "created_at", "face_models"]
    form = setup_forms.ChainForm  # the policy as form fields, not a JSON box (issue #22, 4)

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
    form = setup_forms.CentreForm  # opening hours one line per day, not JSON (issue #22, 4)
    list_display = ["name", "chain", "time_zone", "language", "liveness"]
    list_filter = ["chain"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(ScopedAdmin):
    view_perm = Perm.VIEW_MEMBERS
    change_perm = Perm.EDIT_MEMBERS
    add_perm = Perm.EDIT_MEMBERS
    delete_perm = None  # erasure is a data-protection action with its own service, not a delete
    audit_list_action, audit_view_action = "member.list", "member.view"
    list_display = ["member_number", "first_name", "last_name", "home_centre", "status", "start_date", "end_date"]
    list_filter = ["status", "home_centre"]
    search_fields = ["member_number"]  # enables the box; get_search_results does the real work
    search_help_text = _("Exact e-mail, phone or member number, or whole words of the name.")
    actions = ["export_csv", "send_invitation"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "chain",
                    "home_centre",
                    "member_number",
                    "status",
                    "membership_type",
                    ("start_date", "end_date"),
                ]
            },
        ),
        (
            _("Personal data (encrypted at rest)"),
            {"fields": ["first_name", "last_name", "birth_date", "gender", "email", "phone", "address"]},
        ),
        (_("Guardian (members under the chain's minor age)"), {"fields": ["guardian_name", "guardian_email"]}),
        (_("Consent, face, PIN and visits"), {"fields": ["overview"]}),
        (_("Access report"), {"fields": ["access_report"]}),
    ]
    readonly_fields = ["access_report", "overview"]
    export_fields = [
        "member_number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "status",
        "start_date",
        "end_date",
    ]

    @admin.display(description=_("Status"))
    def overview(self, obj: Member) -> str:
        """Where the member stands, from what each app holds about them (the personal-data registry,
        so members reads consent and access without importing them): consents, face, PIN, visits."""
        if obj is None or obj.pk is None:
            return "–"
        from justface import display
        from justface.personal_data import held_about

        held = {c.key: c.data for c in held_about(obj)}
        lines = []
        latest = {}
        for record in held.get("consents", []):
            latest[record["document"]] = record  # oldest first: the last one stands
        for kind, record in sorted(latest.items()):
            lines.append(
                f"{display.label('consent.document', kind)}: {display.label('consent.action', record['action'])} "
                f"{display.when(record['at'])}"
            )
        if not latest:
            lines.append(str(_("No consent signed.")))
        faces = held.get("face", [])
        lines.append(
            _("Face template: enrolled %(when)s") % {"when": display.when(faces[-1]["enrolled_at"])}
            if faces
            else str(_("No face template: enters with the PIN."))
        )
        pin = held.get("pin", {})
        lines.append(
            _("PIN set %(when)s") % {"when": display.when(pin.get("pin_set_at"))}
            if pin.get("pin_set")
            else str(_("No PIN yet: the member sets it in the portal."))
        )
        since = (timezone.now() - timedelta(days=30)).isoformat()
        visits = [e for e in held.get("checkins", []) if e["decision"] == "granted" and e["direction"] == "in"]
        recent = [e for e in visits if e["at"] >= since]
        lines.append(
            _("Visits in the last 30 days: %(n)s; last visit %(when)s")
            % {"n": len(recent), "when": display.when(visits[-1]["at"]) if visits else display.EMPTY}
        )
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.display(description=_("Access report"))
    def access_report(self, obj: Member) -> str:
        """One click to every access event of the member (for an access request): the staff desk's page."""
        if obj is None or obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}" id="member-access-report">{}</a>',
            reverse("staff:member-report", args=[obj.pk]),
            _("Download this member's access events (CSV, XLSX)"),
        )

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_members(queryset, search_term), False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form
        scope = self.scope(request)

        class NewMemberForm(form):
            """A new member is checked against the chain's exclusion list: refused where the chain
            says so, else the staff are warned when it is saved (save_model)."""

            exclusion_matches: list = []

            def clean(self):
                data = super().clean()
                chain = data.get("chain") if scope.is_platform else Chain.objects.filter(pk=scope.chain_id).first()
                if chain is None or self.errors:
                    return data
                probe = Member(
                    chain=chain,
                    **{f: data.get(f) or "" for f in ("member_number", "email", "phone", "first_name", "last_name")},
                    birth_date=data.get("birth_date"),
                )
                try:
                    self.exclusion_matches = services.check_exclusions(member=probe, actor=request.user, when="create")
                except ValidationError as error:
                    raise forms.ValidationError(error.messages) from None
                return data

        return NewMemberForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        matches = getattr(form, "exclusion_matches", [])
        if not change and matches:
            self.message_user(request, services.exclusion_warning(matches), messages.WARNING)

    def audit_list_reason(self, request) -> str:
        term = request.GET.get("q", "")
        kind = selectors.classify_search(term).value if term.strip() else "none"
        return f"admin list; search: {kind}"

    @admin.action(description=_("Export selected members as CSV"))
    def export_csv(self, request, queryset):
        if not self.scope(request).can(Perm.EXPORT_MEMBERS):
            self.message_user(request, _("Your role may not export member data."), messages.ERROR)
            return None
        members = list(queryset)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="members-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        writer = csv.writer(response)
        writer.writerow(spreadsheet_row(self.export_fields))
        for member in members:
            writer.writerow(spreadsheet_row(getattr(member, f) for f in self.export_fields))
        audit.record_many(action="member.export", actor=request.user, objs=members, reason="admin CSV export")
        return response

    @admin.action(description=_("Invite the selected members to the member portal (e-mail)"))
    def send_invitation(self, request, queryset):
        if not self.scope(request).can(Perm.EDIT_MEMBERS):
            self.message_user(request, _("Your role may not invite members."), messages.ERROR)
            return
        sent, skipped = 0, []
        for member in queryset:
            try:
                invitation = services.invite_member(member=member, actor=request.user, request=request)
                sent += 1
                if invitation.exclusion_matches:
                    self.message_user(
                        request,
                        f"{member.member_number}: {services.exclusion_warning(invitation.exclusion_matches)}",
                        messages.WARNING,
                    )
            except ValidationError as error:
                skipped.append(f"{member.member_number}: {' '.join(error.messages)}")
        if sent:
            self.message_user(
                request,
                _("Sent %(sent)s invitation(s); each link works once, for %(days)s days.")
                % {"sent": sent, "days": Invitation.LIFETIME_DAYS},
                messages.SUCCESS,
            )
        for line in skipped:
            self.message_user(request, _("Not invited – %(reason)s") % {"reason": line}, messages.WARNING)


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


class DataSubjectRequestAdmin(ScopedAdmin):
    """The requests desk: every request, oldest deadline first, filtered by what is due this week,
    overdue or closed. Managers and the DPO record requests received by any channel; a request's
    own page shows its life in order (received, deadline, answer and outcome e-mail) and records
    each step: the identity check, progress, an extension (the reason is e-mailed), the outcome
    (e-mailed first; a failed e-mail leaves it open with the failure shown).

    Registered by retention.admin, which adds an erasure request's last step, the erasure itself,
    to the same page: erasing crosses every app, which only the retention layer may import."""

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

    def save_model(self, request, obj, form, change):
        scope = self.scope(request)
        data = form.cleaned_data
        try:
            if not change:
                chain = data["member"].chain if data.get("member") else Chain.objects.get(pk=scope.chain_id)
                if not scope.is_platform and chain.pk != scope.chain_id:
                    raise PermissionDenied
                saved = services.record_data_subject_request(
                    chain=chain,
                    actor=request.user,
                    **{f: data.get(f) for f in RecordRequestForm.Meta.fields if f in data},
                )
                obj.pk = saved.pk
                return
            if not scope.contains(obj):
                raise PermissionDenied
            fresh = DataSubjectRequest.objects.select_related("member", "chain").get(pk=obj.pk)
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
                return  # an answered request: lifting its restriction was the only step left
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
            elif (
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
                request.request_step_refused = True
            else:
                services.close_data_subject_request(
                    request=fresh,
                    status=data["status"],
                    response=data["response"],
                    actor=request.user,
                    send_email=data.get("send_email", False),
                )
                self.message_user(request, _("The request is closed."), messages.SUCCESS)
        except ValidationError as error:
            # Nothing half-done: the service changed nothing but the e-mail failure it noted.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            request.request_step_refused = True

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # the service refused (its message is shown): nothing was recorded
            return HttpResponseRedirect(reverse("admin:members_datasubjectrequest_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "request_step_refused", False):
            # Not "changed successfully" under the refusal: back to the request, the message on top.
            return HttpResponseRedirect(reverse("admin:members_datasubjectrequest_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def log_addition(self, request, obj, message):
        pass  # services.record_data_subject_request wrote the audit entry

    def log_change(self, request, obj, message):
        pass  # the services wrote the audit entries


class StaffRoleInline(admin.StackedInline):
    model = StaffRole
    can_delete = True
    filter_horizontal = ["centres"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Logins are the platform operator's to manage; a staff login gets its chain and role here."""

    inlines = [StaffRoleInline]


class ExclusionForm(forms.ModelForm):
    """The person's e-mail, phone and birth date are asked for only to keep their keyed hashes
    (the membership check matches on them); the values themselves are not stored. With a member
    chosen, everything comes from the member's record."""

    email = forms.EmailField(label=_("E-mail (only its keyed hash is kept)"), required=False)
    phone = forms.CharField(label=_("Phone (only its keyed hash is kept)"), required=False)
    birth_date = forms.DateField(
        label=_("Birth date (only a keyed hash with the name is kept)"), required=False, widget=IsoDateInput()
    )

    class Meta:
        model = Exclusion
        fields = ["member", "member_number", "full_name", "category", "reason", "starts_on", "ends_on", "letter"]

    def __init__(self, *args, chain_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if chain_id is not None and self.instance.pk is None:
            self.instance.chain_id = chain_id  # the chain's limits apply in Exclusion.clean
        if "full_name" in self.fields:  # a reader (the DPO) gets no fields to edit
            self.fields["full_name"].required = False
        if "member" in self.fields:
            self.fields["member"].help_text = _("Or leave empty and type the person's details.")

    def clean(self):
        data = super().clean()
        member = data.get("member")
        if member is not None:
            data["member_number"], data["full_name"] = member.member_number, member.full_name
            self.instance.member_number, self.instance.full_name = member.member_number, member.full_name
        elif not data.get("full_name"):
            self.add_error("full_name", _("Choose a member or type the person's full name."))
        return data


@admin.register(Exclusion)
class ExclusionAdmin(ScopedAdmin):
    """The chain's exclusion (quarantine) list: managers keep it, the DPO reads it, the front desk
    does not see it (it meets a match as a warning when creating or inviting a member). Every list
    and detail view is an audit entry; the reason's text and the letter are encrypted."""

    view_perm = Perm.EXPORT_MEMBERS  # manager and DPO
    change_perm = add_perm = delete_perm = Perm.EDIT_CHAIN_SETUP  # manager (ending one early: delete)
    audit_list_action, audit_view_action = "exclusion.list", "exclusion.view"
    form = ExclusionForm
    list_display = ["id", "member_number", "full_name", "category", "starts_on", "ends_on"]
    list_filter = ["category"]
    readonly_fields = ["created_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        scope = self.scope(request)

        class ScopedExclusionForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, chain_id=None if scope.is_platform else scope.chain_id, **kw)

        return ScopedExclusionForm

    def get_fields(self, request, obj=None):
        fields = [
            "member",
            "member_number",
            "full_name",
            "email",
            "phone",
            "birth_date",
            "category",
            "reason",
            "starts_on",
            "ends_on",
            "letter",
        ]
        return (["chain"] if self.scope(request).is_platform and obj is None else []) + fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        member = data.get("member")
        if member is not None:
            obj.set_identity(
                email=member.email,
                phone=member.phone,
                first_name=member.first_name,
                last_name=member.last_name,
                birth_date=member.birth_date,
            )
        elif any(data.get(f) for f in ("email", "phone", "birth_date")) or not change:
            obj.set_identity(
                email=data.get("email") or "",
                phone=data.get("phone") or "",
                first_name=obj.full_name,
                birth_date=data.get("birth_date"),
            )
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# Invitation rounds and the invitation list live in a module of their own (this one is long enough).
from members import invitation_admin  # noqa: E402, F401

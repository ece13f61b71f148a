"""Members in the admin: their record, exports, and the actions staff take on them."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from justface import audit
from justface.admin_scoping import ScopedAdmin
from justface.exports import spreadsheet_row
from justface.tenancy import Perm
from members import selectors, services
from members.models import Chain, Invitation, Member


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

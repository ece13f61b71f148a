"""Staff import a file of members here: upload (a dry run first, by default), then watch the
progress bar (imports/progress.js polls imports.views.status) and the first rows of each outcome."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from imports import services
from imports.models import ImportJob
from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from members.models import Chain


class UploadForm(forms.ModelForm):
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    class Meta:
        model = ImportJob
        fields = ["chain", "file", "dry_run"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = format_html(
            '{} <a href="{}" id="import-template-csv">CSV</a> · <a href="{}" id="import-template-xlsx">XLSX</a>',
            _("One member per row, columns as in the template:"),
            reverse("staff:import-template", args=["csv"]),
            reverse("staff:import-template", args=["xlsx"]),
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > services.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large: split it."))
        content = upload.read()
        try:
            services.check_file(content)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        self.content = content
        return upload


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    view_perm = add_perm = Perm.BULK_MEMBERS  # the chain's managers
    change_perm = delete_perm = None
    audit_view_action = "importjob.view"  # the page lists member ids of the first rows
    form = UploadForm
    list_display = ["created_at", "original_name", "dry_run", "state", "progress_text"]
    list_filter = ["state", "dry_run"]

    class Media:
        js = ["imports/progress.js"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return (["chain"] if self.scope(request).is_platform else []) + ["file", "dry_run"]
        return ["original_name", "dry_run", "state", "progress", "failure", "created_at", "started_at",
                "finished_at", "first_rows", "next_step"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        scope = self.scope(request)
        chain = form.cleaned_data.get("chain") if scope.is_platform else Chain.objects.get(pk=scope.chain_id)
        job = services.start_job(
            chain=chain,
            actor=request.user,
            content=form.content,
            original_name=form.cleaned_data["file"].name,
            dry_run=form.cleaned_data["dry_run"],
        )
        obj.pk = job.pk

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("The file is queued; this page shows its progress."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[obj.pk]))

    def log_addition(self, request, obj, message):
        pass  # services.start_job wrote the audit entry

    @admin.display(description=_("Progress"))
    def progress_text(self, obj: ImportJob) -> str:
        return f"{obj.percent}% ({obj.created}/{obj.updated}/{obj.unchanged}/{obj.errors})"

    @admin.display(description=_("Progress"))
    def progress(self, obj: ImportJob) -> str:
        return format_html(
            '<div id="import-progress" data-status-url="{}" data-finished="{}">'
            '<progress max="100" value="{}"></progress> <span data-field="percent">{}</span>% · '
            '<span data-field="state_label">{}</span><br>'
            '{}: <span data-field="processed">{}</span> / <span data-field="total">{}</span> · '
            '{}: <span data-field="created">{}</span> · {}: <span data-field="updated">{}</span> · '
            '{}: <span data-field="unchanged">{}</span> · {}: <span data-field="errors">{}</span></div>',
            reverse("staff:import-status", args=[obj.pk]), "1" if obj.status()["finished"] else "0",
            obj.percent, obj.percent, obj.get_state_display(),
            _("rows"), obj.processed_rows, obj.total_rows if obj.total_rows is not None else "…",
            _("created"), obj.created, _("updated"), obj.updated,
            _("unchanged"), obj.unchanged, _("errors"), obj.errors,
        )  # fmt: skip

    @admin.display(description=_("Next"))
    def next_step(self, obj: ImportJob) -> str:
        """After an import that created members: invite them to the portal (an invitation round)."""
        if obj.dry_run or obj.state != ImportJob.State.DONE or not obj.created:
            return "–"
        return format_html(
            '<a href="{}" id="invite-imported">{}</a>',
            reverse("admin:members_invitationround_add"),
            _("Invite the members without a login to the member portal"),
        )

    @admin.display(description=_("First rows of each outcome"))
    def first_rows(self, obj: ImportJob) -> str:
        labels = {"created": _("created"), "updated": _("updated"), "unchanged": _("unchanged"), "error": _("errors")}
        parts = []
        for kind, label in labels.items():
            rows = (obj.samples or {}).get(kind) or []
            if not rows:
                continue
            body = format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        r["line"],
                        r.get("external_id", ""),
                        r.get("field") or ", ".join(r.get("changed", [])),
                        r.get("message") or r.get("warning", ""),
                    )
                    for r in rows
                ),
            )
            parts.append(
                format_html(
                    '<h4 id="rows-{}">{}</h4><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>',
                    kind,
                    label,
                    _("line"),
                    "external_id",
                    _("field"),
                    _("message"),
                    body,
                )  # fmt: skip
            )
        return format_html_join("", "{}", ((p,) for p in parts)) or "–"

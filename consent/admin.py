"""Consent documents, edited by the chain's manager per language: a draft can change; a
published version cannot (a new version is a new draft, which may ask members to re-consent).
Signed records are evidence: read-only for everyone."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consent import selectors, services
from consent.models import ConsentDocument, ConsentRecord
from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(ScopedAdmin):
    list_display = ["kind", "language", "version", "title", "published_at", "requires_reconsent", "reconsented"]
    list_filter = ["kind", "language"]
    actions = ["publish", "make_new_version"]

    @admin.display(description=_("re-consented"))
    def reconsented(self, obj: ConsentDocument) -> str:
        """For a published version that requires re-consent: signed so far, of those asked."""
        if not (obj.is_published and obj.requires_reconsent):
            return ""
        signed, asked = selectors.reconsent_progress(obj)
        return _("%(signed)d of %(asked)d") % {"signed": signed, "asked": asked}

    def get_fields(self, request, obj=None):
        fields = ["kind", "language", "version", "title", "body", "requires_reconsent", "published_at"]
        return (["chain"] if self.scope(request).is_platform else []) + fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["version", "published_at"]
        if obj.is_published:
            return self.get_fields(request, obj)
        # Kind and language fix the version numbering once a draft exists.
        return ["chain", "kind", "language", "version", "published_at"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_published)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_published)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        if not self.scope(request).is_platform:
            obj.chain_id = self.scope(request).chain_id
        services.create_draft(document=obj, actor=request.user)

    def log_addition(self, request, obj, message):
        pass  # services.create_draft wrote the audit entry

    def _each(self, request, queryset, action, done: str):
        if not self.scope(request).can(Perm.EDIT_CHAIN_SETUP):
            self.message_user(request, _("Your role may not change consent documents."), messages.ERROR)
            return
        for document in queryset:
            try:
                result = action(document=document, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{document}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, done % {"document": result}, messages.SUCCESS)

    @admin.action(description=_("Publish the selected drafts (their text is then frozen)"))
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda **kw: services.publish_document(request=request, **kw),
            _("Published %(document)s."),
        )

    @admin.action(description=_("Start a new version of the selected documents (a draft to edit)"))
    def make_new_version(self, request, queryset):
        self._each(
            request,
            queryset,
            services.new_version,
            _(
                "Created draft %(document)s; edit it, tick “requires re-consent” if members must sign again, "
                "then publish."
            ),
        )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ScopedAdmin):
    """Evidence of consent, for staff who answer questions and the DPO: nothing here can change."""

    view_perm = Perm.VIEW_MEMBERS
    change_perm = add_perm = delete_perm = None
    audit_list_action, audit_view_action = "consentrecord.list", "consentrecord.view"
    list_display = ["at", "member_number", "document", "action", "channel"]
    list_filter = ["action", "channel", "document__kind"]

    @admin.display(description=_("member number"))
    def member_number(self, record):
        return record.member.member_number  # a person reads the member number, not the row id

    fields = [
        "member",
        "document",
        "action",
        "at",
        "text_sha256",
        "channel",
        "typed_name",
        "ip_address",
        "user_agent",
        "receipt",
    ]
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document", "member")

"""The admin of invitations at scale: rounds (a manager invites every member without a login;
counts while the worker sends) and every invitation with how its e-mail fared, so that a bounced,
failed or expired one is seen by the staff of the member's centre."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from members import invitation_rounds
from members.models import Chain, Invitation, InvitationRound


class InvitationRoundForm(forms.ModelForm):
    class Meta:
        model = InvitationRound
        fields = ["chain", "centre"]


@admin.register(InvitationRound)
class InvitationRoundAdmin(ScopedAdmin):
    view_perm = add_perm = Perm.BULK_MEMBERS  # the chain's managers
    change_perm = delete_perm = None  # a round is started and cancelled, never edited
    form = InvitationRoundForm
    list_display = ["created_at", "centre", "state", "progress"]
    actions = ["cancel_rounds"]
    readonly_fields = ["created_at", "created_by", "state", "progress", "finished_at", "cancelled_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return (["chain"] if self.scope(request).is_platform else []) + ["centre"]
        return ["centre", "created_at", "created_by", "state", "progress", "finished_at", "cancelled_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        scope = self.scope(request)
        if obj is not None:
            return form

        class StartRoundForm(form):
            def clean(self):
                data = super().clean()
                if not scope.is_platform:
                    data["chain"] = Chain.objects.get(pk=scope.chain_id)
                return data

        return StartRoundForm

    def add_view(self, request, form_url="", extra_context=None):
        extra = {"subtitle": _("Invite every member without a login who has an e-mail address")}
        return super().add_view(request, form_url, {**(extra_context or {}), **extra})

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            started = invitation_rounds.start_round(chain=data["chain"], centre=data.get("centre"), actor=request.user)
        except ValidationError as error:
            # save_model cannot put an error on the form: the round simply does not start.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            obj.pk = None
            return
        obj.pk, obj.total = started.pk, started.total

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        self.message_user(
            request,
            _("%(n)s members will be invited, %(rate)s per minute, by the background worker.")
            % {"n": obj.total, "rate": settings.JUSTFACE_INVITE_RATE},
            messages.SUCCESS,
        )
        return super().response_post_save_add(request, obj)

    def log_addition(self, request, obj, message):
        pass  # invitation_rounds.start_round wrote the audit entry

    @admin.display(description=_("State"))
    def state(self, obj: InvitationRound) -> str:
        if obj.cancelled_at:
            return _("Cancelled")
        if obj.finished_at:
            return _("Finished")
        return _("Sending")

    @admin.display(description=_("Progress"))
    def progress(self, obj: InvitationRound) -> str:
        c = invitation_rounds.counts(obj)
        listing = reverse("admin:members_invitation_changelist")
        return format_html(
            '<progress max="100" value="{}"></progress> {}% &nbsp; '
            '<span class="round-counts">{}: {} · <a href="{}?round__id__exact={}&delivery__exact=sent">{}: {}</a> · '
            '<a href="{}?round__id__exact={}&delivery__exact=failed">{}: {}</a> · '
            '<a href="{}?round__id__exact={}&delivery__exact=bounced">{}: {}</a> · '
            '<a href="{}?round__id__exact={}&state=expired">{}: {}</a> · {}: {} · {}: {}</span>',
            c.done_percent, c.done_percent,
            _("to send"), c.to_send,
            listing, obj.pk, _("sent"), c.sent,
            listing, obj.pk, _("failed"), c.failed,
            listing, obj.pk, _("bounced"), c.bounced,
            listing, obj.pk, _("expired"), c.expired,
            _("accepted"), c.accepted,
            _("passed over"), c.skipped,
        )  # fmt: skip

    @admin.action(description=_("Cancel the selected rounds (invitations already sent stay valid)"))
    def cancel_rounds(self, request, queryset):
        cancelled = sum(invitation_rounds.cancel_round(round_=r, actor=request.user) for r in queryset)
        self.message_user(request, _("%(n)s round(s) cancelled.") % {"n": cancelled}, messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.scope(request).can(Perm.BULK_MEMBERS):
            actions.pop("cancel_rounds", None)
        return actions


class InvitationStateFilter(admin.SimpleListFilter):
    title = _("link")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", _("Usable")),
            ("expired", _("Expired unused")),
            ("accepted", _("Accepted")),
            ("replaced", _("Replaced or used")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "open":
            return queryset.filter(used_at=None, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(used_at=None, expires_at__lte=now)
        if self.value() == "accepted":
            return queryset.filter(used_at__isnull=False, member__user__isnull=False)
        if self.value() == "replaced":
            return queryset.filter(used_at__isnull=False, member__user=None)
        return queryset


@admin.register(Invitation)
class InvitationAdmin(ScopedAdmin):
    """Every portal invitation of the staff member's scope, with its e-mail's fate."""

    view_perm = Perm.VIEW_MEMBERS
    change_perm = add_perm = delete_perm = None
    audit_list_action, audit_view_action = "invitation.list", "invitation.view"
    list_display = ["member_number", "delivery", "delivery_error", "sent_at", "expires_at", "link_state", "round"]
    list_filter = ["delivery", InvitationStateFilter, "round"]
    list_select_related = ["member", "round"]
    fields = ["member_number", "delivery", "delivery_error", "sent_at", "expires_at", "used_at", "link_state", "round"]
    readonly_fields = fields
    actions = ["mark_bounced"]

    @admin.display(description=_("member number"))
    def member_number(self, obj: Invitation) -> str:
        return obj.member.member_number

    @admin.display(description=_("link"))
    def link_state(self, obj: Invitation) -> str:
        if obj.used_at is None:
            return _("Expired unused") if obj.expired else _("Usable")
        return _("Accepted") if obj.member.user_id else _("Replaced or used")

    @admin.action(description=_("Mark as bounced (the mail provider reported it undeliverable)"))
    def mark_bounced(self, request, queryset):
        if not self.scope(request).can(Perm.EDIT_MEMBERS):
            self.message_user(request, _("Your role may not change invitations."), messages.ERROR)
            return
        marked = invitation_rounds.mark_invitations_bounced(invitations=queryset, actor=request.user)
        self.message_user(request, _("%(n)s invitation(s) marked as bounced.") % {"n": marked}, messages.SUCCESS)

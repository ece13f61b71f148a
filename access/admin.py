from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from access import selectors, services
from access.models import AccessEvent, DeviceToken, Door, DoorAgent, DoorEvent, Visit
from justface import audit, display, private_files
from justface.admin_display import code_column, code_filter, score_column
from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm, scope_for
from members.setup_forms import OpeningHoursField


class DoorForm(forms.ModelForm):
    # The same one-line-per-day field as the centre's: no JSON typed by staff.
    opening_hours = OpeningHoursField(
        label=_("Door opening hours"),
        help_text=_(
            "One line per day, e.g. 06:00–22:00; several: 06:00–12:00, 14:00–22:00; overnight: 22:00–06:00. "
            "Every day empty: the centre's opening hours. Once any day is set, an empty day is closed at this door."
        ),
    )

    class Meta:
        model = Door
        fields = "__all__"

    # A form that leaves the rules out (an older client, a script) keeps the defaults: the door
    # behaves as before rules existed.
    DEFAULTED = ("anti_passback", "anti_passback_minutes", "anti_passback_scope")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.DEFAULTED:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in self.DEFAULTED:
            if name in self.fields and cleaned.get(name) in (None, ""):
                cleaned[name] = Door._meta.get_field(name).get_default()
        return cleaned


class DeviceTokenInline(admin.TabularInline):
    model = DeviceToken
    fields = readonly_fields = ["label", "created_at", "last_seen_at", "revoked_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued by the action, which shows the token once

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).can(Perm.VIEW_CHAIN_SETUP)  # the door around it is already scoped


@admin.register(Door)
class DoorAdmin(ScopedAdmin):
    form = DoorForm
    list_display = ["name", "centre", "rules", "created_at", "liveness_calibrated_at"]
    fieldsets = [
        (None, {"fields": ["centre", "name"]}),
        (
            _("Door rules"),
            {
                "fields": [
                    "opening_hours",
                    "exit_only",
                    "membership_types",
                    "anti_passback",
                    "anti_passback_minutes",
                    "anti_passback_scope",
                    "refuse_pin_reuse",
                ],
                "description": _(
                    "Checked by the server for face and PIN entries alike, in this order: exit only, the door's "
                    "hours, then for the identified member: membership, exclusion, membership type, PIN reuse, "
                    "anti-passback. Leaving is never refused."
                ),
            },
        ),
    ]
    list_filter = ["centre"]
    search_fields = ["name"]
    autocomplete_fields = ["centre"]
    inlines = [DeviceTokenInline]
    actions = ["issue_token", "issue_agent", "reset_liveness"]

    @admin.display(description=_("rules"))
    def rules(self, door):
        shown = []
        if door.exit_only:
            shown.append(str(_("exit only")))
        if door.opening_hours:
            shown.append(str(_("own hours")))
        if door.membership_types:
            shown.append(door.membership_types)
        if door.anti_passback != "off":
            shown.append(f"{_('anti-passback')}: {door.get_anti_passback_display()}")
        if door.refuse_pin_reuse:
            shown.append(str(_("PIN reuse refused")))
        return "; ".join(shown) or display.EMPTY

    def response_add(self, request, obj, post_url_continue=None):
        # A new door gets its tablet's token straight away.
        return self._show_tokens(request, [obj])

    @admin.action(description=_("Issue a new device token (shown once)"), permissions=["change"])
    def issue_token(self, request, queryset):
        return self._show_tokens(request, list(queryset.select_related("centre")))

    @admin.action(description=_("Pair a new door agent (credential shown once)"), permissions=["change"])
    def issue_agent(self, request, queryset):
        from access import door_signing

        public_key = door_signing.signing_key().public_text
        doors = list(queryset.select_related("centre"))
        issued = [(door, services.issue_door_agent(door=door, actor=request.user)[1]) for door in doors]
        response = TemplateResponse(
            request,
            "admin/access/door/agent_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Door agent credential issued"),
                "issued": issued,
                "public_key": public_key,
                "opts": self.model._meta,
            },
        )
        add_never_cache_headers(response)  # the credential must not linger in any cache
        return response

    @admin.action(
        description=_("Reset the liveness calibration (back to the cautious default)"), permissions=["change"]
    )
    def reset_liveness(self, request, queryset):
        from access import liveness

        doors = list(queryset)
        for door in doors:
            liveness.reset_calibration(door)
        self.message_user(
            request, _("Liveness calibration reset for %(n)d door(s).") % {"n": len(doors)}, messages.SUCCESS
        )

    def _show_tokens(self, request, doors):
        issued = [(door, services.issue_device_token(door=door, actor=request.user)[1]) for door in doors]
        response = TemplateResponse(
            request,
            "admin/access/door/token_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Device token issued"),
                "issued": issued,
                "opts": self.model._meta,
            },
        )
        add_never_cache_headers(response)  # the token must not linger in any cache
        return response


@admin.register(DeviceToken)
class DeviceTokenAdmin(ScopedAdmin):
    list_display = ["__str__", "label", "created_at", "last_seen_at", "revoked_at"]
    list_select_related = ["door__centre"]  # __str__ names door and centre
    list_filter = ["door__centre"]
    fields = ["door", "label", "created_at", "last_seen_at", "revoked_at", "last_status"]
    readonly_fields = ["door", "created_at", "last_seen_at", "revoked_at", "last_status"]
    actions = ["revoke", "unlock_pin_pad"]

    def has_add_permission(self, request):
        return False  # issued from a door, so that the token is shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row keeps when the tablet was last seen

    @admin.action(description=_("Revoke selected tokens (immediately)"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(
            services.revoke_device_token(token=token, actor=request.user)
            for token in queryset.select_related("door__centre")
        )
        self.message_user(
            request,
            _("%(count)s token(s) revoked; their tablets are refused from now on.") % {"count": revoked},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Unlock the PIN pad of selected tablets (after too many wrong PINs)"), permissions=["change"]
    )
    def unlock_pin_pad(self, request, queryset):
        unlocked = sum(
            services.unlock_pin_pad(device=token, actor=request.user)
            for token in queryset.select_related("door__centre")
        )
        self.message_user(request, _("%(count)s PIN pad(s) unlocked.") % {"count": unlocked}, messages.SUCCESS)


@admin.register(DoorAgent)
class DoorAgentAdmin(ScopedAdmin):
    list_display = ["__str__", "label", "created_at", "last_seen_at", "revoked_at"]
    list_select_related = ["door__centre"]
    list_filter = ["door__centre"]
    fields = ["door", "label", "created_at", "last_seen_at", "revoked_at", "last_status"]
    readonly_fields = ["door", "created_at", "last_seen_at", "revoked_at", "last_status"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # paired from a door (action "Pair a new door agent"), so the credential is shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead

    @admin.action(description=_("Revoke selected door agents (immediately)"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(
            services.revoke_door_agent(agent=agent, actor=request.user)
            for agent in queryset.select_related("door__centre")
        )
        self.message_user(
            request,
            _("%(count)s door agent(s) revoked; they get no more commands.") % {"count": revoked},
            messages.SUCCESS,
        )


class ReadOnlyAdmin(ScopedAdmin):
    """Door records are written by the door services only; staff read them."""

    view_perm = Perm.VIEW_MEMBERS
    change_perm = add_perm = delete_perm = None


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    # Fits a 1366 px laptop beside the filters: the door names its centre; the
    # margin and the liveness score are on the event's own page.
    list_display = ["at_local", "centre", "door_name", "member_number", "how", "outcome", "score_shown"]
    list_select_related = ["centre", "door__centre", "member"]  # door may be empty: not joined by default
    list_filter = [
        "decision",
        "method",
        "direction",
        code_filter("reason", "access.reason", _("reason")),
        code_filter("liveness_layer", "access.liveness_layer", _("liveness layer")),
        code_filter("flag", "access.flag", _("flag")),
        "centre",
        "door",
    ]
    reason_label = code_column("reason", "access.reason", _("reason"))
    liveness_layer_label = code_column("liveness_layer", "access.liveness_layer", _("liveness layer"))
    flag_label = code_column("flag", "access.flag", _("flag"))
    score_shown = score_column("score", _("score"))
    margin_shown = score_column("margin", _("margin"))
    liveness_score_shown = score_column("liveness_score", _("liveness score"))
    date_hierarchy = "at"
    # The event's own page: the same words, numbers rounded (never 16 decimals), local time.
    fields = [
        "at",
        "centre",
        "door",
        "member_number",
        "method",
        "direction",
        "decision",
        "reason_label",
        "flag_label",
        "score_shown",
        "margin_shown",
        "liveness_layer_label",
        "liveness_score_shown",
        "liveness_detail",
        "door_photo",
    ]
    readonly_fields = [
        "member_number",
        "reason_label",
        "flag_label",
        "score_shown",
        "margin_shown",
        "liveness_layer_label",
        "liveness_score_shown",
        "door_photo",
    ]
    LIVENESS_REPORT_DAYS = 7

    @admin.display(description=_("at"), ordering="at")
    def at_local(self, event):
        return display.when_short(event.at)

    @admin.display(description=_("door"), ordering="door__name")
    def door_name(self, event):
        return event.door.name if event.door_id else display.EMPTY

    @admin.display(description=_("how"), ordering="method")
    def how(self, event):
        return f"{event.get_method_display()}, {str(event.get_direction_display()).lower()}"

    @admin.display(description=_("outcome"), ordering="decision")
    def outcome(self, event):
        if event.flag:  # let in, but a door rule wants staff to look (anti-passback, flag mode)
            return f"{event.get_decision_display()} ({display.label('access.flag', event.flag)})"
        if event.reason == "ok":
            return event.get_decision_display()
        return f"{event.get_decision_display()}: {display.label('access.reason', event.reason)}"

    @admin.display(description=_("member number"))
    def member_number(self, event):
        return event.member.member_number if event.member_id else display.EMPTY

    def changelist_view(self, request, extra_context=None):
        # A burst of failed liveness checks at one door is flagged on the events list.
        for row in selectors.liveness_bursts(self.get_queryset(request)):
            messages.warning(
                request,
                _(
                    "%(centre)s – %(door)s: %(failures)s failed liveness checks in the hour from %(when)s. "
                    "Someone may be trying photos or screens (see Failed liveness checks per door and hour)."
                )
                % {
                    "centre": row["centre"],
                    "door": row["door"],
                    "failures": row["failures"],
                    "when": display.when(row["hour"]),
                },
            )
        return super().changelist_view(request, {**(extra_context or {}), "liveness_report_url": "liveness/"})

    def liveness_report_view(self, request):
        """Failed liveness checks per door and hour, last 7 days, bursts flagged."""
        if not self.has_view_permission(request):
            raise Http404
        since = timezone.now() - timedelta(days=self.LIVENESS_REPORT_DAYS)
        rows = selectors.liveness_failures(self.get_queryset(request), since=since)
        return TemplateResponse(
            request,
            "admin/access/accessevent/liveness_report.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Failed liveness checks per door and hour"),
                "rows": rows,
                "days": self.LIVENESS_REPORT_DAYS,
                "burst": selectors.LIVENESS_BURST,
                "opts": self.model._meta,
            },
        )

    @admin.display(description=_("Door photo"))
    def door_photo(self, event):
        if not (event.scan and event.scan.frame_file):
            return _("None kept (deleted at check-out or at its deadline, or never kept).")
        until = event.scan.frame_expires_at
        return format_html(
            '<img src="frame/" alt="{}" style="max-width:320px"><br>{}',
            _("Door photo"),
            _("Deleted at the latest %(when)s.") % {"when": display.when(until)},
        )

    def get_urls(self):
        frame = path(
            "<path:object_id>/frame/", self.admin_site.admin_view(self.frame_view), name="access_accessevent_frame"
        )
        report = path(
            "liveness/", self.admin_site.admin_view(self.liveness_report_view), name="access_accessevent_liveness"
        )
        return [report, frame, *super().get_urls()]

    def frame_view(self, request, object_id):
        """The kept frame of a scan, decrypted for staff who may see the event; every look is audited."""
        event = self.get_object(request, object_id)
        if event is None or not self.has_view_permission(request, event) or not (event.scan and event.scan.frame_file):
            raise Http404("No door photo.")
        audit.record(
            action="door_photo.view", actor=request.user, obj=event, chain_id=event.centre.chain_id, reason="admin"
        )
        response = private_files.image_response(event.scan.frame_file)
        add_never_cache_headers(response)
        return response


class InsideNowFilter(admin.SimpleListFilter):
    title = _("inside now")
    parameter_name = "inside"

    def lookups(self, request, model_admin):
        return [("yes", _("Inside now")), ("no", _("Left or ended"))]

    def queryset(self, request, queryset):
        inside = selectors.open_visits(at=timezone.now()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=inside)
        if self.value() == "no":
            return queryset.exclude(pk__in=inside)
        return queryset


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    """Live occupancy: how many members are inside each centre, and the visits behind it."""

    list_display = ["checked_in_at", "centre", "member_number", "checked_out_at", "ends_at"]
    list_select_related = ["centre", "member"]
    list_filter = [InsideNowFilter, "centre"]
    date_hierarchy = "checked_in_at"
    change_list_template = "admin/access/visit/change_list.html"

    @admin.display(description=_("member number"))
    def member_number(self, visit):
        return visit.member.member_number

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "occupancy": selectors.occupancy(self.scope(request))}
        return super().changelist_view(request, extra_context)


@admin.register(DoorEvent)
class DoorEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "door", "kind", "access_event", "closed_at"]
    list_select_related = ["door__centre"]
    list_filter = ["kind", "door__centre"]
    date_hierarchy = "at"

"""Webhook endpoints and their delivery log, for the chain's managers (and the platform
operator). The signing secret is shown once, when the endpoint is made or given a new secret;
the log shows each delivery's status, attempts, latency and a short excerpt of the answer."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from justface import display
from justface.admin_scoping import ScopedAdmin
from justface.tenancy import Perm
from members.models import Chain
from webhooks import events, services
from webhooks.models import WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("HTTPS on a public address; redirects are not followed."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("event types"), choices=events.CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["chain", "url", "description", "event_types"]

    def clean_url(self):
        try:
            return services.checked_url(self.cleaned_data["url"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedAdmin):
    # Managers only: the log names members by id and number, and the URLs are the chain's systems.
    view_perm = Perm.EDIT_CHAIN_SETUP
    form = EndpointForm
    list_display = ["url", "subscribed", "enabled", "disabled_reason", "failing_since", "log"]
    list_filter = ["enabled"]
    readonly_fields = ["enabled", "disabled_reason", "disabled_at", "failing_since", "failed_in_a_row", "created_at"]
    actions = ["enable", "disable", "new_secret"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types"]
        if obj is not None:
            fields += self.readonly_fields
        return (["chain"] if self.scope(request).is_platform and obj is None else []) + fields

    @admin.display(description=_("event types"))
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(display.label("webhooks.event_type", t) for t in obj.event_types)

    @admin.display(description=_("delivery log"))
    def log(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("deliveries"))

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        scope = self.scope(request)
        chain = form.cleaned_data.get("chain") if scope.is_platform else Chain.objects.get(pk=scope.chain_id)
        created, secret = services.create_endpoint(
            chain=chain,
            url=obj.url,
            event_types=obj.event_types,
            description=obj.description,
            actor=request.user,
        )
        obj.pk, obj.chain, obj.secret = created.pk, chain, secret
        request.webhook_secret = [(created, secret)]

    def log_addition(self, request, obj, message):
        pass  # services.create_endpoint wrote the audit entry

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secrets(request, getattr(request, "webhook_secret", []))

    def _show_secrets(self, request, issued):
        response = TemplateResponse(
            request,
            "admin/webhooks/webhookendpoint/secret_shown.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Signing secret"),
                "issued": issued,
                "opts": self.model._meta,
            },
        )
        add_never_cache_headers(response)  # the secret must not linger in any cache
        return response

    @admin.action(description=_("Enable the selected endpoints"), permissions=["change"])
    def enable(self, request, queryset):
        done = sum(services.set_enabled(endpoint=e, enabled=True, actor=request.user) for e in queryset)
        self.message_user(request, _("%(count)d endpoint(s) enabled.") % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Disable the selected endpoints"), permissions=["change"])
    def disable(self, request, queryset):
        done = sum(services.set_enabled(endpoint=e, enabled=False, actor=request.user) for e in queryset)
        self.message_user(request, _("%(count)d endpoint(s) disabled.") % {"count": done}, messages.SUCCESS)

    @admin.action(
        description=_("Give the selected endpoints a new signing secret (shown once)"), permissions=["change"]
    )
    def new_secret(self, request, queryset):
        issued = [(e, services.rotate_secret(endpoint=e, actor=request.user)) for e in queryset]
        return self._show_secrets(request, issued)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):
    view_perm = Perm.EDIT_CHAIN_SETUP
    change_perm = None
    add_perm = None
    delete_perm = None
    audit_list_action = "webhook_delivery.list"
    audit_view_action = "webhook_delivery.view"
    list_display = [
        "created_at",
        "event_type",
        "status",
        "attempts",
        "last_status",
        "latency_ms",
        "response_excerpt",
        "next_at",
        "endpoint",
    ]
    list_select_related = ["endpoint"]
    list_filter = ["endpoint", "status", "event_type"]
    fields = [
        "endpoint",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "next_at",
        "last_status",
        "last_error",
        "latency_ms",
        "response_excerpt",
        "created_at",
        "finished_at",
        "replay_of",
        "body",
        "body_erased_at",
    ]
    readonly_fields = fields
    actions = ["replay"]

    def has_replay_permission(self, request):
        return self.scope(request).can(Perm.EDIT_CHAIN_SETUP)

    @admin.action(description=_("Send the selected deliveries again"), permissions=["replay"])
    def replay(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.replay(delivery=delivery, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{delivery}: {' '.join(error.messages)}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, _("%(count)d delivery(ies) queued again.") % {"count": sent}, messages.SUCCESS)

"""How webhooks' codes read to people (justface.display): event types, delivery statuses and the
audit actions of endpoints and deliveries."""

from django.utils.translation import gettext_lazy as _

from justface import display
from webhooks import events
from webhooks.models import WebhookDelivery, WebhookEndpoint

display.register("webhooks.event_type", events.EVENT_TYPES)
display.register("webhooks.delivery_status", WebhookDelivery.Status.choices)
display.register("webhooks.disabled_reason", [c for c in WebhookEndpoint.DisabledReason.choices if c[0]])
display.register(
    "audit.object",
    {
        "webhook": _("Webhook endpoint"),
        "webhookendpoint": _("Webhook endpoint"),
        "webhook_delivery": _("Webhook delivery"),
        "webhookdelivery": _("Webhook delivery"),
    },
)
display.register(
    "audit.action",
    {
        "webhook.create": _("Webhook endpoint: created"),
        "webhook.enable": _("Webhook endpoint: enabled"),
        "webhook.disable": _("Webhook endpoint: disabled"),
        "webhook.auto_disable": _("Webhook endpoint: disabled after repeated failure"),
        "webhook.rotate_secret": _("Webhook endpoint: new signing secret"),
        "webhook.change": _("Webhook endpoint: changed"),
        "webhook.delete": _("Webhook endpoint: deleted"),
        "webhook_delivery.replay": _("Webhook delivery: sent again"),
    },
)

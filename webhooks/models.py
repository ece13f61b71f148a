"""A chain's webhook endpoints and the log of what was delivered to them (docs/webhooks.md)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField

from members.models import Chain


class WebhookEndpoint(models.Model):
    """A URL of the chain's own systems and the event types it gets. The signing secret is kept
    encrypted, not hashed: the Standard Webhooks signature is an HMAC keyed with the secret itself,
    so the sender must be able to read it back (a hash could only check a secret, never sign)."""

    class DisabledReason(models.TextChoices):
        NONE = "", _("Enabled")
        MANUAL = "manual", _("Disabled by staff")
        FAILING = "failing", _("Disabled after repeated failure")

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = EncryptedCharField(_("signing secret"), max_length=100, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(
        _("why disabled"), max_length=10, choices=DisabledReason.choices, blank=True, default=""
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # The first failed attempt since the last success (None: the last attempt succeeded).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # Deliveries in a row whose every attempt failed (reset by any success).
    failed_in_a_row = models.PositiveIntegerField(_("failed deliveries in a row"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["chain", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, with its attempts. `body` is the exact JSON that is signed and
    sent; it holds ids and external ids only, and is erased when the retention rule says
    (webhooks.delivery.purge_bodies), or at once when the member it names is erased."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(_("event id"), max_length=40, db_index=True)  # the webhook-id header
    event_type = models.CharField(_("event type"), max_length=40)
    body = models.TextField(_("body"), blank=True)
    body_erased_at = models.DateTimeField(_("body erased at"), null=True, blank=True)
    # The member the event names, to erase the body with them (an id, not a key: the log outlives them).
    member_id = models.BigIntegerField(_("member id"), null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: when the next attempt is due; sending: when the claim lapses (a worker that died).
    next_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)  # the pump holding it
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", verbose_name=_("replay of"), on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )

    tenancy_chain_path = "endpoint__chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_at"], name="webhooks_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class PumpBeat(models.Model):
    """One row: when a delivery pump last said it is running (webhooks.delivery.pump). A commit
    that logged deliveries queues a pump only when none is running, so the queue never fills with
    pumps while one is busy (the others' tasks, the retention purge among them, keep their turn)."""

    beat_at = models.DateTimeField(_("beat at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery pump")
        verbose_name_plural = _("delivery pumps")

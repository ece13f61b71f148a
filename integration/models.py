"""The chain's own systems talking to Justface: integration keys, the change feeds they read
(members changed, events) and the answers kept for retried bulk requests.

The chain's member id ("external id") is the member number Justface already holds (encrypted,
with a keyed hash for look-ups): no second identifier of the person is stored (docs/integration.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Chain, Member
from webhooks import events


class Scope(models.TextChoices):
    MEMBERS_WRITE = "members:write", _("Create and update members")
    MEMBERS_READ = "members:read", _("Read members changed since a cursor")
    EVENTS_READ = "events:read", _("Read access, consent and erasure events")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhook endpoints")


class IntegrationKey(models.Model):
    """An API key of one chain for its membership system. The secret is shown once; only its
    SHA-256 is kept. `prefix` (the key's first characters) tells keys apart in lists and logs."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        "justface.User", verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None
    # As an actor (the API's request.user and in the audit trail): the key, by its id.
    is_authenticated = True
    is_active = True
    is_superuser = False
    audit_actor_kind = "integration"

    class Meta:
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label or _('Integration key')} ({self.prefix}…)"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class MemberChange(models.Model):
    """Where a member stands in the chain's member feed (GET members?cursor=). A write marks the
    row unsequenced (seq NULL); a reader of the feed first numbers every committed unsequenced
    row under the chain's counter lock (integration.feed.sequence), so numbers follow commit
    order and a cursor never skips a row that commits late."""

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"))

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("member change")
        verbose_name_plural = _("member changes")
        indexes = [models.Index(fields=["chain", "seq"], name="member_change_feed")]


class FeedEvent(models.Model):
    """One event for the chain's systems (GET events?cursor=, webhooks): ids and codes only, never
    a template, a photo or a score. Numbered like MemberChange (seq NULL until a reader sequences it)."""

    class Kind(models.TextChoices):
        # The webhooks' event types: one vocabulary (webhooks.events holds the names and labels).
        CHECK_IN = events.CHECK_IN, events.EVENT_TYPES[events.CHECK_IN]
        CHECK_OUT = events.CHECK_OUT, events.EVENT_TYPES[events.CHECK_OUT]
        REFUSED = events.REFUSED, events.EVENT_TYPES[events.REFUSED]
        DOOR_ALARM = events.DOOR_ALARM, events.EVENT_TYPES[events.DOOR_ALARM]
        CONSENT_GIVEN = events.CONSENT_GIVEN, events.EVENT_TYPES[events.CONSENT_GIVEN]
        CONSENT_WITHDRAWN = events.CONSENT_WITHDRAWN, events.EVENT_TYPES[events.CONSENT_WITHDRAWN]
        FACE_ERASED = events.FACE_ERASED, events.EVENT_TYPES[events.FACE_ERASED]
        MEMBER_ERASED = events.MEMBER_ERASED, events.EVENT_TYPES[events.MEMBER_ERASED]

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    # Not a key: the event outlives the member's erasure (as ids) until the feed's period ends.
    member_id = models.BigIntegerField(_("member id"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("integration event")
        verbose_name_plural = _("integration events")
        indexes = [
            models.Index(fields=["chain", "seq"], name="feed_event_seq"),
            models.Index(fields=["chain", "id"], name="feed_event_unsequenced", condition=models.Q(seq=None)),
        ]


class FeedCounter(models.Model):
    """The last number given in a chain's feed ("members" or "events"); its row lock orders the
    numbering."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    stream = models.CharField(_("stream"), max_length=16)
    last_seq = models.BigIntegerField(_("last sequence"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "stream"], name="feed_counter_unique")]


class IdempotentRequest(models.Model):
    """A bulk request's answer, kept for JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS under its
    Idempotency-Key, so a retry gets the same answer and writes nothing twice. The body is kept
    as a hash; the answer (outcomes per row: external ids, field names, messages) expires."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=200)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    response = models.JSONField(_("response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "key"], name="idempotency_key_unique")]

"""What webhooks hold about a member, declared to the personal-data registry
(justface.personal_data): the delivery log, whose bodies carry a member's id and the chain's own id
for them (the member number) with access, consent and erasure events. Never names, templates,
photos or scores. Endpoints hold no member data."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from justface.personal_data import (
    HOSTING,
    MEMBERS,
    Activity,
    Erased,
    PersonalData,
    ReceiptLine,
    Rule,
    declare_not_personal,
    register,
)
from webhooks.models import WebhookDelivery

Status = WebhookDelivery.Status


def _words(policy) -> str:
    days = settings.JUSTFACE_WEBHOOK_BODY_DAYS
    return ngettext(
        "Sent to the chain's own systems; the copy kept for support is deleted after %(days)d day.",
        "Sent to the chain's own systems; the copy kept for support is deleted after %(days)d days.",
        days,
    ) % {"days": days}


WEBHOOKS = Activity(
    key="webhooks",
    name=_("Events sent to the chain's own systems (webhooks)"),
    purpose=_("Keeping the chain's membership system in step with check-ins, consents and erasures."),
    legal_basis=_("Contract (GDPR Art. 6(1)(b)) and the chain's legitimate interest (Art. 6(1)(f))."),
    data_subjects=(MEMBERS,),
    data_categories=(_("Event type and time, member id and member number, centre, door, decision and reason code"),),
    recipients=(_("The chain's own systems at the addresses its managers set"), HOSTING),
    retention_key=None,
    retention_words=_words,
    enforced_by="webhooks.delivery.purge_bodies (django-q schedule, hourly); at once at the member's erasure",
)

DELIVERIES_ERASED = ReceiptLine("webhook_bodies", _("Webhook deliveries about the member (bodies erased)"))


def _erase(member, *, actor, reason: str) -> Erased:
    """The member's event bodies go; what still waited to be sent is cancelled. The chain's
    systems are then told by `erasure.member` (integration.signals, when the member's row goes),
    by Justface's id alone: nothing of the member's number stays."""
    now = timezone.now()
    mine = WebhookDelivery.objects.filter(member_id=member.pk)
    mine.filter(status__in=[Status.PENDING, Status.SENDING]).update(
        status=Status.CANCELLED, finished_at=now, next_at=None, last_error="member erased"
    )
    erased = mine.update(body="", member_id=None, body_erased_at=now)
    return {DELIVERIES_ERASED: erased}


def _period(name: str) -> str:
    return f"`{name}` setting ({getattr(settings, name)} days)"


register(
    PersonalData(
        key="webhooks",
        order=85,  # before the member's own row (90)
        activities=(WEBHOOKS,),
        tables=(
            Rule(
                "webhooks.WebhookDelivery (body, member id)",
                "webhook deliveries (ids, member number)",
                "webhooks",
                _period("JUSTFACE_WEBHOOK_BODY_DAYS") + "; at once at the member's erasure",
                "webhooks.delivery.purge_bodies",
            ),
            Rule(
                "webhooks.WebhookDelivery (the log row)",
                "webhook delivery log (status, attempts, no body)",
                "webhooks",
                _period("JUSTFACE_WEBHOOK_LOG_DAYS"),
                "webhooks.delivery.purge_bodies",
            ),
        ),
        erase=_erase,
        receipt=(DELIVERIES_ERASED,),
    )
)

declare_not_personal(
    "webhooks.WebhookEndpoint", "the chain's receiving URLs, event types and encrypted signing secret: no member"
)
declare_not_personal("webhooks.PumpBeat", "when the delivery pump last ran: one time, nothing else")

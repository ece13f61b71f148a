"""What the integration app holds about members, declared to the personal-data registry
(justface.personal_data): the member feed's marks, the events feed (ids and codes: the member's
id and member number with what happened) and the answers kept for retried bulk requests."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integration import conf
from integration.models import FeedEvent, IdempotentRequest, MemberChange
from justface.crypto import normalise_member_number
from justface.personal_data import (
    DPO_MANAGERS,
    HOSTING,
    MEMBERS,
    Activity,
    Erased,
    PersonalData,
    ReceiptLine,
    Rule,
    declare_not_personal,
    lines,
    register,
)


def _words(policy) -> str:
    days = conf.event_days()
    return ngettext(
        "Events for the chain's own systems are kept %(days)d day, then deleted.",
        "Events for the chain's own systems are kept %(days)d days, then deleted.",
        days,
    ) % {"days": days}


INTEGRATION = Activity(
    key="integration",
    name=_("The chain's own systems kept in step"),
    purpose=_(
        "Taking the member master data from the chain's membership system, and telling that system what "
        "happened at the door (check-ins, refusals, consent, erasure)."
    ),
    legal_basis=_("Contract (GDPR Art. 6(1)(b)); the chain's membership system is its own."),
    data_subjects=(MEMBERS,),
    data_categories=(
        _("Member id and member number with the kind of event, time, centre and door: no face data, no scores"),
    ),
    recipients=(DPO_MANAGERS, _("The chain's membership system (its integration keys)"), HOSTING),
    retention_key=None,
    retention_words=_words,
    enforced_by="integration.jobs.purge (daily schedule integration.purge)",
)

TABLES = (
    Rule(
        "integration.FeedEvent",
        "events for the chain's systems (ids, member number, codes)",
        "integration",
        "`JUSTFACE_INTEGRATION_EVENT_DAYS` (30) days; the member number goes at the member's erasure",
        "daily schedule integration.purge → integration.jobs.purge",
    ),
    Rule(
        "integration.MemberChange",
        "the member feed's position of each member (ids only)",
        "integration",
        "with the member",
        "retention.jobs.purge_due → ErasureJob kind 'member' (retention.services.erase_member)",
    ),
    Rule(
        "integration.IdempotentRequest",
        "answers to bulk requests kept for retries (member numbers, field errors)",
        "integration",
        "`JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS` (24) hours; the member number goes at the member's erasure",
        "daily schedule integration.purge → integration.jobs.purge",
    ),
)

ERASED = (
    ReceiptLine("integration_events_stripped", _("Events for the chain's systems, kept without the member number")),
    ReceiptLine("integration_answers_stripped", _("Answers kept for retried requests, without the member number")),
)


def _erase(member, *, actor, reason: str) -> Erased:
    """The member's events keep their ids and codes, not the member number; answers kept for
    retried bulk requests lose it too (the row's outcome stays)."""
    stripped = 0
    for event in FeedEvent.objects.filter(member_id=member.pk).only("pk", "data"):
        if "external_id" in event.data:
            event.data.pop("external_id")
            FeedEvent.objects.filter(pk=event.pk).update(data=event.data)
            stripped += 1
    number = normalise_member_number(member.member_number)
    answers = 0
    for kept in IdempotentRequest.objects.filter(chain_id=member.chain_id, response__isnull=False):
        results = kept.response.get("results", []) if isinstance(kept.response, dict) else []
        named = [r for r in results if normalise_member_number(str(r.get("external_id", ""))) == number]
        for result in named:
            result["external_id"] = ""
        if named:
            IdempotentRequest.objects.filter(pk=kept.pk).update(response=kept.response)
            answers += 1
    MemberChange.objects.filter(member_id=member.pk).delete()
    return lines(ERASED, {"integration_events_stripped": stripped, "integration_answers_stripped": answers})


register(
    PersonalData(key="integration", order=85, activities=(INTEGRATION,), tables=TABLES, erase=_erase, receipt=ERASED)
)

declare_not_personal("integration.IntegrationKey", "a chain's API keys (hashed secret, scopes, times)")
declare_not_personal("integration.FeedCounter", "the last number of a chain's feed")

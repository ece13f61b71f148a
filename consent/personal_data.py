"""What consent holds about a member, declared to the personal-data registry
(justface.personal_data): proof of consent and marketing consent."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent import services, subject_data
from justface.personal_data import (
    DPO_MANAGERS,
    HOSTING,
    MEMBER_ERASURE,
    MEMBERS,
    Activity,
    Erased,
    PersonalData,
    ReceiptLine,
    Rule,
    after_end,
    declare_not_personal,
    lines,
    register,
)
from members.models import Member
from members.policy import ChainPolicy, default_key


def _marketing_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Until you withdraw it; at the latest %(days)d day after the membership ends, the consent is deleted.",
        "Until you withdraw it; at the latest %(days)d days after the membership ends, the consent is deleted.",
        policy.marketing_retention_days,
    ) % {"days": policy.marketing_retention_days}


CONSENTS = Activity(
    key="consents",
    name=_("Proof of consent"),
    purpose=_("Proving what you agreed to, when, and what you withdrew."),
    legal_basis=_("Legal obligation to document consent (GDPR Art. 7(1))."),
    data_subjects=(MEMBERS,),
    data_categories=(
        _("Document, version, fingerprint of the text, time"),
        _("Typed name, IP address, browser"),
    ),
    recipients=(DPO_MANAGERS, HOSTING),
    retention_key="checkins_retention_days",
    retention_words=after_end,
    enforced_by=MEMBER_ERASURE,
    stored=(_("Encrypted columns; append-only records"),),
)

MARKETING = Activity(
    key="marketing",
    name=_("Marketing consent"),
    purpose=_("Sending you offers and news, only if you agreed to it."),
    legal_basis=_("Your consent (GDPR Art. 6(1)(a))."),
    data_subjects=(MEMBERS,),
    data_categories=(
        _("Your marketing consent or its withdrawal: document, version, time, typed name, IP address, browser"),
    ),
    recipients=(DPO_MANAGERS, HOSTING),
    retention_key="marketing_retention_days",
    retention_words=_marketing_words,
    enforced_by="retention.jobs.purge_due → ErasureJob kind 'marketing' (retention.services.erase_marketing_consent)",
    stored=(_("Encrypted columns; append-only records"),),
)


# Retention per table: every table of this app that holds data about a person, with its period
# and the job that enforces it (docs/retention.md is these rendered: manage.py retention_table).
TABLES = (
    Rule(
        "consent.ConsentRecord",
        "consent records: terms and face scan",
        "consents",
        f"{default_key('checkins_retention_days')} days after the membership ends¹",
        MEMBER_ERASURE,
    ),
    Rule(
        "consent.ConsentRecord (marketing)",
        "marketing consent records",
        "marketing",
        f"until withdrawn; {default_key('marketing_retention_days')} days after the membership ends¹",
        "purge_due → ErasureJob 'marketing' (retention.services.erase_marketing_consent)",
    ),
    Rule(
        "consent.GuardianConfirmation",
        "guardian's name and e-mail, confirmation link",
        "membership",
        "with the member",
        MEMBER_ERASURE,
    ),
)

RECEIPT = (
    ReceiptLine("consent_records_deleted", _("Consent records")),
    ReceiptLine("guardian_links_deleted", _("Guardian confirmations")),
)


def _erase(member: Member, *, actor, reason: str) -> Erased:
    return lines(RECEIPT, services.erase_member_consents(member=member))


register(
    PersonalData(
        key="consents",
        order=40,
        activities=(CONSENTS, MARKETING),
        tables=TABLES,
        held_about=lambda member: [subject_data.consents(member)],
        erase=_erase,
        receipt=RECEIPT,
    )
)

declare_not_personal("consent.ConsentDocument", "the texts members are asked to agree to")

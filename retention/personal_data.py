"""What retention (and the kernel's audit trail) holds, declared to the personal-data registry
(justface.personal_data): the audit trail and the erasure jobs. Neither is shown to the member nor
erased with them: they hold ids only, and prove what was done."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from justface.personal_data import (
    HOSTING,
    MEMBERS,
    STAFF,
    Activity,
    PersonalData,
    Rule,
    declare_not_personal,
    register,
)
from members.policy import ChainPolicy, default_key


def _audit_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Kept %(days)d day, then deleted; nobody can change or delete an entry before that.",
        "Kept %(days)d days, then deleted; nobody can change or delete an entry before that.",
        policy.audit_retention_days,
    ) % {"days": policy.audit_retention_days}


AUDIT = Activity(
    key="audit",
    name=_("Audit trail of staff actions"),
    purpose=_("Proving who looked at or changed personal data, and when."),
    legal_basis=_("Legal obligation (GDPR Art. 5(2) and 32)."),
    data_subjects=(STAFF, MEMBERS),
    data_categories=(_("Who (staff id), what, which record (id), when, why: no names"),),
    recipients=(_("The chain's data protection officer"), HOSTING),
    retention_key="audit_retention_days",
    retention_words=_audit_words,
    enforced_by="retention.jobs.purge_due → justface.audit.purge (the only deletion the PostgreSQL trigger lets through)",
)


# Retention per table: every table of this app that holds data about a person, with its period
# and the job that enforces it (docs/retention.md is these rendered: manage.py retention_table).
TABLES = (
    Rule(
        "justface.AuditEntry",
        "audit trail (ids only)",
        "audit",
        f"{default_key('audit_retention_days')} days (at least 365)",
        "purge_due → justface.audit.purge",
    ),
    Rule(
        "retention.ErasureJob",
        "erasure jobs (ids, a count)",
        "audit",
        f"{default_key('erasure_job_retention_days')} days after the job is done",
        "purge_due → retention.services.purge_done_jobs",
    ),
)

register(PersonalData(key="audit", order=95, activities=(AUDIT,), tables=TABLES))

declare_not_personal("retention.Processor", "companies the chain uses")

"""What the member import holds, declared to the personal-data registry (justface.personal_data):
the uploaded file (encrypted) until its run ends, and per job the counts and the first rows of each
outcome (line, member number, message) for JUSTFACE_IMPORT_KEEP_DAYS."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from justface.personal_data import (
    DPO_MANAGERS,
    HOSTING,
    MEMBERS,
    Activity,
    Erased,
    PersonalData,
    ReceiptLine,
    Rule,
    register,
)


def _import_words(policy) -> str:
    days = settings.JUSTFACE_IMPORT_KEEP_DAYS
    return str(
        _("The uploaded file: deleted when its import ends.")
        + " "
        + ngettext(
            "What the import did (the first rows, by member number): deleted %(days)d day after it.",
            "What the import did (the first rows, by member number): deleted %(days)d days after it.",
            days,
        )
        % {"days": days}
    )


MEMBER_IMPORT = Activity(
    key="member_import",
    name=_("Member import from the chain's files"),
    purpose=_("Taking the chain's member list from its membership system, as a CSV or XLSX file."),
    legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
    data_subjects=(MEMBERS,),
    data_categories=(_("The members' master data in the uploaded file"), _("Member numbers of rows with an error")),
    recipients=(DPO_MANAGERS, HOSTING),
    retention_key=None,
    retention_words=_import_words,
    enforced_by="imports.services.run_slice deletes the file; daily schedule imports.purge → purge_old_jobs; a member's erasure removes their rows (erase_member_rows)",
    stored=(_("Encrypted private file (the upload)"),),
)

IMPORT_ROWS = ReceiptLine("import_rows", _("Rows of member imports naming the member"))


def _erase(member, *, actor, reason: str) -> Erased:
    from imports.services import erase_member_rows

    return {IMPORT_ROWS: erase_member_rows(member=member)}


register(
    PersonalData(
        key="member_import",
        order=85,
        activities=(MEMBER_IMPORT,),
        erase=_erase,
        receipt=(IMPORT_ROWS,),
        tables=(
            Rule(
                "imports.ImportJob",
                "member import jobs: the uploaded file (encrypted) and the first rows of each outcome",
                "member_import",
                "the file until the run ends; the job `JUSTFACE_IMPORT_KEEP_DAYS` (30) days",
                "imports.services.run_slice; daily schedule imports.purge → imports.services.purge_old_jobs",
            ),
        ),
    )
)

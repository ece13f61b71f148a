"""What consent holds about a member, for the access page and the export (registered with the
personal-data registry by consent.personal_data)."""

from django.utils.translation import gettext_lazy as _

from consent.models import ConsentRecord
from justface.personal_data import Category, activity
from members.models import Member


def consents(member: Member) -> Category:
    policy = member.chain.policy
    notice = activity("consents").notice(policy)
    # Marketing consent has its own, shorter period (consent.personal_data, activity "marketing").
    notice["retention"] = (
        f"{notice['retention']} {_('Marketing consent:')} {activity('marketing').retention_words(policy)}"
    )
    records = ConsentRecord.objects.filter(member=member).select_related("document").order_by("at", "id")
    return Category(
        key="consents",
        order=20,
        title=_("Your consents"),
        **notice,
        data=[
            {
                "document": r.document.kind,
                "version": r.document.version,
                "language": r.document.language,
                "title": r.document.title,
                "action": r.action,
                "at": r.at.isoformat(),
                "text_sha256": r.text_sha256,
                "channel": r.channel,
                "typed_name": r.typed_name,
                "ip_address": r.ip_address,
                "user_agent": r.user_agent,
                "receipt": r.receipt or None,
            }
            for r in records
        ],
        labels={
            "document": _("Document"),
            "version": _("Version"),
            "language": _("Language"),
            "title": _("Title"),
            "action": _("What"),
            "at": _("When"),
            "text_sha256": _("Fingerprint of the text (SHA-256)"),
            "channel": _("Where"),
            "typed_name": _("Name typed"),
            "ip_address": _("IP address"),
            "user_agent": _("Browser"),
            "receipt": _("Erased"),
        },
        codes={
            "document": "consent.document",
            "language": "language",
            "action": "consent.action",
            "channel": "consent.channel",
        },
        details=("document", "version", "language", "text_sha256", "typed_name", "ip_address", "user_agent", "receipt"),
    )

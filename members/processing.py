"""The processing activities (GDPR Art. 30): the ONE declaration that the member's "my data"
page (members.subject_data and each app's subject_data module), the retention job
(retention.services) and the processing register and DPIA fact sheet (retention.register) all
read. Each activity names its purpose, legal basis, data subjects, data, recipients, and its
retention period as a key of the chain's policy (members.policy.ChainPolicy), with the job that
enforces it. Change a chain's policy and the notice, the register and the purge change together.

Kept here, beside ChainPolicy, because members is the lowest app that all three readers import."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.policy import ChainPolicy

# Who the data is about.
MEMBERS = _("Members (and guardians of members under the chain's minor age)")
STAFF = _("Staff of the chain")
VISITORS = _("People at the door (members and anyone who stands in front of the tablet)")

# Who receives it inside the controller, and the processors (the chain's own list: retention.Processor).
CENTRE_STAFF = _("Staff of the member's centres, by role (front desk: their centres only)")
DPO_MANAGERS = _("The chain's managers and data protection officer")
HOSTING = _("The hosting provider running Justface (processor)")


def days_after_end(days: int) -> str:
    if days == 0:
        return str(_("Deleted when the membership ends."))
    return ngettext("Kept until %(days)d day after the membership ends.",
                    "Kept until %(days)d days after the membership ends.", days) % {"days": days}


def _biometric_words(policy: ChainPolicy) -> str:
    days = policy.biometric_retention_days
    end = str(_("at the end of the membership")) if days == 0 else ngettext(
        "%(days)d day after the membership ends", "%(days)d days after the membership ends", days) % {"days": days}
    return str(_("Deleted at once when you withdraw your consent, otherwise %(end)s.") % {"end": end})


def _door_photo_words(policy: ChainPolicy) -> str:
    if not policy.door_photo_max_hours:
        return str(_("Never kept."))
    return str(_("Deleted when the member leaves (check-out), at the latest at the visit's end: closing time or "
                 "%(hours)d hours after check-in.") % {"hours": policy.door_photo_max_hours})


def _denied_frame_words(policy: ChainPolicy) -> str:
    if not policy.denied_frame_hours:
        return str(_("Never kept: deleted as soon as the door has decided."))
    return str(_("Kept %(hours)d hours for support, then deleted.") % {"hours": policy.denied_frame_hours})


@dataclass(frozen=True)
class Activity:
    key: str
    name: Promise
    purpose: Promise
    legal_basis: Promise
    data_subjects: tuple[Promise, ...]
    data_categories: tuple[Promise, ...]
    recipients: tuple[Promise, ...]
    # The ChainPolicy field that sets the period, and its unit; None: no period in the policy.
    retention_key: str | None
    retention_words: Callable[[ChainPolicy], str]
    # The job or service that deletes the data when the period is over (named in the register).
    enforced_by: str
    retention_unit: str = "days"
    special_category: bool = False
    stored: tuple[Promise, ...] = field(default=())  # where and how (encrypted columns, private files)

    def retention_value(self, policy: ChainPolicy) -> int | None:
        return getattr(policy, self.retention_key) if self.retention_key else None

    def retention_days(self, policy: ChainPolicy) -> int | None:
        """The period in days (a period in hours counts as 0 whole days); None: no period."""
        value = self.retention_value(policy)
        if value is None:
            return None
        return value if self.retention_unit == "days" else value // 24

    def notice(self, policy: ChainPolicy) -> dict:
        """What the member's "my data" page says about this activity."""
        return {"purpose": self.purpose, "legal_basis": self.legal_basis, "retention": self.retention_words(policy)}


_MEMBER_ERASURE = "retention.jobs.purge_due → ErasureJob kind 'member' (retention.services.erase_member)"
_after_end = lambda policy: days_after_end(policy.checkins_retention_days)  # noqa: E731

ACTIVITIES: dict[str, Activity] = {a.key: a for a in (
    Activity(
        key="membership", name=_("Membership administration"),
        purpose=_("Running your membership: contract, contact and access to the centres."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Name, address, phone, e-mail, birth date, gender"), _("Member number, membership type, status and dates, home centre"),
                         _("Guardian's name and e-mail"), _("Member portal login")),
        recipients=(CENTRE_STAFF, DPO_MANAGERS, HOSTING),
        retention_key="checkins_retention_days", retention_words=_after_end, enforced_by=_MEMBER_ERASURE,
        stored=(_("Encrypted columns (Fernet) with keyed hashes for exact look-ups"),),
    ),
    Activity(
        key="consents", name=_("Proof of consent"),
        purpose=_("Proving what you agreed to, when, and what you withdrew."),
        legal_basis=_("Legal obligation to document consent (GDPR Art. 7(1))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Document, version, fingerprint of the text, time"), _("Typed name, IP address, browser")),
        recipients=(DPO_MANAGERS, HOSTING),
        retention_key="checkins_retention_days", retention_words=_after_end, enforced_by=_MEMBER_ERASURE,
        stored=(_("Encrypted columns; append-only records"),),
    ),
    Activity(
        key="checkins", name=_("Access control (check-ins)"),
        purpose=_("Access control and support; counted without names in statistics for the centre."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b)); statistics: legitimate interest (Art. 6(1)(f))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Time, centre, door, method (face or PIN), direction, decision and reason"),),
        recipients=(CENTRE_STAFF, DPO_MANAGERS, HOSTING),
        retention_key="checkins_retention_days", retention_words=_after_end,
        enforced_by=_MEMBER_ERASURE + "; the events stay without the member",
    ),
    Activity(
        key="face", name=_("Face recognition at the door"),
        purpose=_("Recognising you at the door, only with your explicit consent; your PIN always works instead."),
        legal_basis=_("Your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Face template (biometric data)"), _("Enrollment photo, where the chain keeps it")),
        recipients=(_("Nobody: the door compares templates itself; staff of the member's centres see the kept photo"), HOSTING),
        retention_key="biometric_retention_days", retention_words=_biometric_words, special_category=True,
        enforced_by="members.faces.erase_biometrics: at once on withdrawal; retention.jobs.purge_due → ErasureJob kind 'biometrics'",
        stored=(_("Encrypted column (template); encrypted private file (photo)"),),
    ),
    Activity(
        key="door_photos", name=_("Door photos"),
        purpose=_("Letting the front desk check who came in while the member is inside."),
        legal_basis=_("Your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("The camera frame of a granted check-in"),),
        recipients=(CENTRE_STAFF,),
        retention_key="door_photo_max_hours", retention_unit="hours", retention_words=_door_photo_words, special_category=True,
        enforced_by="access.services (at check-out); retention.jobs.purge_due → ErasureJob kind 'door_photo'",
        stored=(_("Encrypted private file"),),
    ),
    Activity(
        key="denied_frames", name=_("Frames of refused scans"),
        purpose=_("Support: understanding why the door refused someone."),
        legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f))."),
        data_subjects=(VISITORS,),
        data_categories=(_("The camera frame of a refused scan (names nobody)"),),
        recipients=(CENTRE_STAFF,),
        retention_key="denied_frame_hours", retention_unit="hours", retention_words=_denied_frame_words,
        enforced_by="retention.jobs.purge_due → ErasureJob kind 'door_photo'",
        stored=(_("Encrypted private file"),),
    ),
    Activity(
        key="pin", name=_("Door PIN"),
        purpose=_("Letting you in without face scan."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("A one-way hash of the PIN"), _("Wrong-PIN counts per member number (keyed hash), 15 minutes")),
        recipients=(HOSTING,),
        retention_key="checkins_retention_days", retention_words=_after_end, enforced_by=_MEMBER_ERASURE,
    ),
    Activity(
        key="requests", name=_("Data-protection requests"),
        purpose=_("Answering your requests and proving that we did."),
        legal_basis=_("Legal obligation (GDPR Art. 6(1)(c))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Kind of request, dates, status, the member's message and the answer"),),
        recipients=(DPO_MANAGERS, HOSTING),
        retention_key="checkins_retention_days", retention_words=_after_end,
        enforced_by=_MEMBER_ERASURE + "; the request stays without the member and their words, as proof",
    ),
    Activity(
        key="exclusions", name=_("Exclusion (quarantine) list"),
        purpose=_("Refusing entry and a new membership while a quarantine lasts."),
        legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f))."),
        data_subjects=(MEMBERS, _("Former members")),
        data_categories=(_("Name, member number, period, reason, the letter sent"),),
        recipients=(DPO_MANAGERS, HOSTING),
        retention_key=None, retention_words=lambda policy: str(_("Until the quarantine ends (the day after); a permanent one stays.")),
        enforced_by="retention.jobs.purge_due → ErasureJob kind 'exclusion'",
        stored=(_("Encrypted columns"),),
    ),
    Activity(
        key="statistics", name=_("Statistics per centre and hour"),
        purpose=_("Planning: how many check in at each hour, and how many are inside."),
        legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f)); the counts themselves hold no personal data."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Counts per centre and hour: no member, no id"),),
        recipients=(DPO_MANAGERS, CENTRE_STAFF),
        retention_key=None, retention_words=lambda policy: str(_("Anonymous counts: kept.")),
        enforced_by="access.stats (counted as events happen; never tied to a member)",
    ),
    Activity(
        key="audit", name=_("Audit trail of staff actions"),
        purpose=_("Proving who looked at or changed personal data, and when."),
        legal_basis=_("Legal obligation (GDPR Art. 5(2) and 32)."),
        data_subjects=(STAFF, MEMBERS),
        data_categories=(_("Who (staff id), what, which record (id), when, why: no names"),),
        recipients=(_("The chain's data protection officer"), HOSTING),
        retention_key=None, retention_words=lambda policy: str(_("Append-only; no deletion period yet.")),
        enforced_by="justface.audit (append-only; a PostgreSQL trigger refuses changes)",
    ),
    Activity(
        key="access_reports", name=_("Access report files"),
        purpose=_("Access reports the DPO or a manager asks for (e.g. for a member's access request)."),
        legal_basis=_("Legal obligation (GDPR Art. 15) and legitimate interest (Art. 6(1)(f))."),
        data_subjects=(MEMBERS,),
        data_categories=(_("Check-ins with member numbers"),),
        recipients=(DPO_MANAGERS,),
        retention_key=None,
        retention_words=lambda policy: str(_("Large reports' files: downloaded once, or erased after %(hours)d hours.")
                                           % {"hours": settings.JUSTFACE_REPORT_FILE_HOURS}),
        enforced_by="access.reports.take_export_file / erase_expired_exports (retention.jobs.purge_due)",
        stored=(_("Encrypted private file"),),
    ),
)}


def activity(key: str) -> Activity:
    return ACTIVITIES[key]

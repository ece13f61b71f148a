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
    return ngettext(
        "Kept until %(days)d day after the membership ends.",
        "Kept until %(days)d days after the membership ends.",
        days,
    ) % {"days": days}


def _biometric_words(policy: ChainPolicy) -> str:
    days = policy.biometric_retention_days
    end = (
        str(_("at the end of the membership"))
        if days == 0
        else ngettext("%(days)d day after the membership ends", "%(days)d days after the membership ends", days)
        % {"days": days}
    )
    return str(_("Deleted at once when you withdraw your consent, otherwise %(end)s.") % {"end": end})


def _face_history_words(policy: ChainPolicy) -> str:
    return (
        str(_("Deleted when staff approve a new photo of you (your face is then enrolled again)."))
        + " "
        + str(_("Otherwise with your membership details:"))
        + " "
        + days_after_end(policy.checkins_retention_days)
    )


def _door_photo_words(policy: ChainPolicy) -> str:
    if not policy.door_photo_max_hours:
        return str(_("Never kept."))
    return str(
        _(
            "Deleted when the member leaves (check-out), at the latest at the visit's end: closing time or "
            "%(hours)d hours after check-in."
        )
        % {"hours": policy.door_photo_max_hours}
    )


def _denied_frame_words(policy: ChainPolicy) -> str:
    if not policy.denied_frame_hours:
        return str(_("Never kept: deleted as soon as the door has decided."))
    return str(_("Kept %(hours)d hours for support, then deleted.") % {"hours": policy.denied_frame_hours})


def _exclusion_words(policy: ChainPolicy) -> str:
    words = ngettext(
        "Until the quarantine ends (deleted the day after), at most %(days)d day after it starts.",
        "Until the quarantine ends (deleted the day after), at most %(days)d days after it starts.",
        policy.exclusion_max_days,
    ) % {"days": policy.exclusion_max_days}
    if policy.exclusion_permanent_allowed:
        words += " " + str(_("A permanent exclusion stays until it is lifted."))
    return words


def _pin_words(policy: ChainPolicy) -> str:
    return (
        days_after_end(policy.pin_retention_days)
        + " "
        + str(_("Wrong-PIN counts: deleted once their 15-minute window or lock is over."))
    )


def _marketing_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Until you withdraw it; at the latest %(days)d day after the membership ends, the consent is deleted.",
        "Until you withdraw it; at the latest %(days)d days after the membership ends, the consent is deleted.",
        policy.marketing_retention_days,
    ) % {"days": policy.marketing_retention_days}


def _request_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Kept until %(days)d day after the request is closed, then deleted with the message and the answer.",
        "Kept until %(days)d days after the request is closed, then deleted with the message and the answer.",
        policy.requests_retention_days,
    ) % {"days": policy.requests_retention_days}


def _audit_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Kept %(days)d day, then deleted; nobody can change or delete an entry before that.",
        "Kept %(days)d days, then deleted; nobody can change or delete an entry before that.",
        policy.audit_retention_days,
    ) % {"days": policy.audit_retention_days}


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

ACTIVITIES: dict[str, Activity] = {
    a.key: a
    for a in (
        Activity(
            key="membership",
            name=_("Membership administration"),
            purpose=_("Running your membership: contract, contact and access to the centres."),
            legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
            data_subjects=(MEMBERS,),
            data_categories=(
                _("Name, address, phone, e-mail, birth date, gender"),
                _("Member number, membership type, status and dates, home centre"),
                _("Guardian's name and e-mail"),
                _("Member portal login"),
            ),
            recipients=(CENTRE_STAFF, DPO_MANAGERS, HOSTING),
            retention_key="checkins_retention_days",
            retention_words=_after_end,
            enforced_by=_MEMBER_ERASURE,
            stored=(_("Encrypted columns (Fernet) with keyed hashes for exact look-ups"),),
        ),
        Activity(
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
            retention_words=_after_end,
            enforced_by=_MEMBER_ERASURE,
            stored=(_("Encrypted columns; append-only records"),),
        ),
        Activity(
            key="checkins",
            name=_("Access control (check-ins)"),
            purpose=_("Access control and support; counted without names in statistics for the centre."),
            legal_basis=_("Contract (GDPR Art. 6(1)(b)); statistics: legitimate interest (Art. 6(1)(f))."),
            data_subjects=(MEMBERS,),
            data_categories=(_("Time, centre, door, method (face or PIN), direction, decision and reason"),),
            recipients=(CENTRE_STAFF, DPO_MANAGERS, HOSTING),
            retention_key="checkins_retention_days",
            retention_words=_after_end,
            enforced_by=_MEMBER_ERASURE + "; the events stay without the member",
        ),
        Activity(
            key="face",
            name=_("Face recognition at the door"),
            purpose=_("Recognising you at the door, only with your explicit consent; your PIN always works instead."),
            legal_basis=_("Your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a))."),
            data_subjects=(MEMBERS,),
            data_categories=(
                _("Face template (biometric data)"),
                _("Enrollment photo, where the chain keeps it"),
                _("A new photo that did not match the enrolled face, until staff have checked it"),
            ),
            recipients=(
                _("Nobody: the door compares templates itself; staff of the member's centres see the kept photo"),
                HOSTING,
            ),
            retention_key="biometric_retention_days",
            retention_words=_biometric_words,
            special_category=True,
            enforced_by="members.faces.erase_biometrics: at once on withdrawal; retention.jobs.purge_due → ErasureJob kind 'biometrics'",
            stored=(_("Encrypted column (template); encrypted private file (photo)"),),
        ),
        Activity(
            key="face_history",
            name=_("Earlier face enrollment"),
            purpose=_(
                "Making sure a face enrolled after you deleted yours (or withdrew your consent) is really yours: "
                "the staff check that new photo once, so nobody else can use your membership."
            ),
            legal_basis=_(
                "Legitimate interest (GDPR Art. 6(1)(f)): keeping a membership to the person who holds it. "
                "It holds no biometric data."
            ),
            data_subjects=(MEMBERS,),
            data_categories=(_("The day your face data were deleted at your request (no photo, no template)"),),
            recipients=(CENTRE_STAFF, HOSTING),
            retention_key="checkins_retention_days",
            retention_words=_face_history_words,
            enforced_by="members.faces.store_face_template (a face enrolled again); " + _MEMBER_ERASURE,
        ),
        Activity(
            key="door_photos",
            name=_("Door photos"),
            purpose=_("Letting the front desk check who came in while the member is inside."),
            legal_basis=_("Your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a))."),
            data_subjects=(MEMBERS,),
            data_categories=(_("The camera frame of a granted check-in"),),
            recipients=(CENTRE_STAFF,),
            retention_key="door_photo_max_hours",
            retention_unit="hours",
            retention_words=_door_photo_words,
            special_category=True,
            enforced_by="access.services (at check-out); retention.jobs.purge_due → ErasureJob kind 'door_photo'",
            stored=(_("Encrypted private file"),),
        ),
        Activity(
            key="denied_frames",
            name=_("Frames of refused scans"),
            purpose=_("Support: understanding why the door refused someone."),
            legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f))."),
            data_subjects=(VISITORS,),
            data_categories=(_("The camera frame of a refused scan (names nobody)"),),
            recipients=(CENTRE_STAFF,),
            retention_key="denied_frame_hours",
            retention_unit="hours",
            retention_words=_denied_frame_words,
            enforced_by="retention.jobs.purge_due → ErasureJob kind 'door_photo'",
            stored=(_("Encrypted private file"),),
        ),
        Activity(
            key="pin",
            name=_("Door PIN"),
            purpose=_("Letting you in without face scan."),
            legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
            data_subjects=(MEMBERS,),
            data_categories=(
                _("A one-way hash of the PIN"),
                _("Wrong-PIN counts per member number (keyed hash), 15 minutes"),
            ),
            recipients=(HOSTING,),
            retention_key="pin_retention_days",
            retention_words=_pin_words,
            enforced_by="retention.jobs.purge_due → ErasureJob kind 'pin' (members.services.erase_pin); "
            "wrong-PIN counts: access.services.purge_pin_lockouts",
        ),
        Activity(
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
        ),
        Activity(
            key="requests",
            name=_("Data-protection requests"),
            purpose=_("Answering your requests and proving that we did."),
            legal_basis=_("Legal obligation (GDPR Art. 6(1)(c))."),
            data_subjects=(MEMBERS, _("People who made a request without being identified as a member")),
            data_categories=(_("Kind of request, dates, status, the member's message and the answer"),),
            recipients=(DPO_MANAGERS, HOSTING),
            retention_key="requests_retention_days",
            retention_words=_request_words,
            enforced_by="retention.jobs.purge_due → retention.services.purge_closed_requests "
            "(an erasure first removes the member and their words from the request)",
        ),
        Activity(
            key="exclusions",
            name=_("Exclusion (quarantine) list"),
            purpose=_("Refusing entry and a new membership while a quarantine lasts."),
            legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f))."),
            data_subjects=(MEMBERS, _("Former members")),
            data_categories=(_("Name, member number, period, reason, the letter sent"),),
            recipients=(DPO_MANAGERS, HOSTING),
            retention_key="exclusion_max_days",
            retention_words=_exclusion_words,
            enforced_by="retention.jobs.purge_due → ErasureJob kind 'exclusion'",
            stored=(_("Encrypted columns"),),
        ),
        Activity(
            key="statistics",
            name=_("Statistics per centre and hour"),
            purpose=_("Planning: how many check in at each hour, and how many are inside."),
            legal_basis=_("Legitimate interest (GDPR Art. 6(1)(f)); the counts themselves hold no personal data."),
            data_subjects=(MEMBERS,),
            data_categories=(_("Counts per centre and hour: no member, no id"),),
            recipients=(DPO_MANAGERS, CENTRE_STAFF),
            retention_key=None,
            retention_words=lambda policy: str(_("Anonymous counts: kept.")),
            enforced_by="access.stats (counted as events happen; never tied to a member)",
        ),
        Activity(
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
        ),
        Activity(
            key="access_reports",
            name=_("Access report files"),
            purpose=_("Access reports the DPO or a manager asks for (e.g. for a member's access request)."),
            legal_basis=_("Legal obligation (GDPR Art. 15) and legitimate interest (Art. 6(1)(f))."),
            data_subjects=(MEMBERS,),
            data_categories=(_("Check-ins with member numbers"),),
            recipients=(DPO_MANAGERS,),
            retention_key=None,
            retention_words=lambda policy: str(
                _("Large reports' files: downloaded once, or erased after %(hours)d hours.")
                % {"hours": settings.JUSTFACE_REPORT_FILE_HOURS}
            ),
            enforced_by="access.reports.take_export_file / erase_expired_exports (retention.jobs.purge_due)",
            stored=(_("Encrypted private file"),),
        ),
    )
}


def activity(key: str) -> Activity:
    return ACTIVITIES[key]


# Retention per table ----------------------------------------------------------------------
# Every table of the project that holds data about a person, with its period and the job that
# enforces it; and every table that holds none, with the reason. A test checks that each model
# of the project's apps is in one of the two, and that docs/retention.md is this table rendered.


@dataclass(frozen=True)
class Rule:
    table: str  # model label, or a column of one ("members.Member.pin_hash")
    category: str
    activity: str  # the ACTIVITIES key whose notice tells the member
    period: str  # how long, naming the ChainPolicy key in `backticks` (its default follows)
    job: str


def _key(name: str) -> str:
    return f"`{name}` ({getattr(ChainPolicy(), name)})"


RULES: tuple[Rule, ...] = (
    Rule(
        "members.Member",
        "master data, membership, guardian",
        "membership",
        f"{_key('checkins_retention_days')} days after the membership ends¹",
        _MEMBER_ERASURE,
    ),
    Rule(
        "members.Member.pin_hash",
        "door PIN (hash)",
        "pin",
        f"{_key('pin_retention_days')} days after the membership ends¹",
        "purge_due → ErasureJob 'pin' (members.services.erase_pin)",
    ),
    Rule(
        "members.FaceTemplate",
        "face templates, kept enrollment photos",
        "face",
        f"at once on withdrawal; {_key('biometric_retention_days')} days after the membership ends¹",
        "consent.services.withdraw; purge_due → ErasureJob 'biometrics'",
    ),
    Rule(
        "members.PendingFacePhoto",
        "a new enrollment photo that did not match the member's face, awaiting staff review",
        "face",
        "until staff approve (it becomes a template) or reject it, at most `JUSTFACE_PENDING_FACE_PHOTO_DAYS` (14) "
        "days; at once on withdrawal and with the member",
        "consent.enrollment.approve/reject_pending_photo; consent.services.withdraw; purge_due → "
        "members.faces.erase_expired_pending_photos",
    ),
    Rule(
        "members.Member.face_erased_on",
        "the day a member deleted their face data or withdrew face consent (no template, no photo): their next "
        "enrollment goes to staff review",
        "face_history",
        f"until a new face is enrolled (staff approved it); else with the member, "
        f"{_key('checkins_retention_days')} days after the membership ends¹",
        "members.faces.store_face_template; " + _MEMBER_ERASURE,
    ),
    Rule(
        "members.GalleryChange",
        "which members' face templates changed when (ids only)",
        "face",
        "2 days",
        "purge_due → members.gallery.purge_changes",
    ),
    Rule(
        "members.Invitation",
        "portal invitation links (hash of the link)",
        "membership",
        "with the member",
        _MEMBER_ERASURE,
    ),
    Rule(
        "members.EmailChange",
        "pending e-mail changes (the new address)",
        "membership",
        "with the member",
        _MEMBER_ERASURE,
    ),
    Rule(
        "members.DataSubjectRequest",
        "data-subject requests, the person's message and the answer",
        "requests",
        f"{_key('requests_retention_days')} days after the request is closed",
        "purge_due → retention.services.purge_closed_requests",
    ),
    Rule(
        "members.Exclusion",
        "exclusion (quarantine) records",
        "exclusions",
        f"the day after the quarantine ends, at most {_key('exclusion_max_days')} days after its start; permanent only "
        f"where {_key('exclusion_permanent_allowed')}",
        "purge_due → ErasureJob 'exclusion'",
    ),
    Rule(
        "consent.ConsentRecord",
        "consent records: terms and face scan",
        "consents",
        f"{_key('checkins_retention_days')} days after the membership ends¹",
        _MEMBER_ERASURE,
    ),
    Rule(
        "consent.ConsentRecord (marketing)",
        "marketing consent records",
        "marketing",
        f"until withdrawn; {_key('marketing_retention_days')} days after the membership ends¹",
        "purge_due → ErasureJob 'marketing' (retention.services.erase_marketing_consent)",
    ),
    Rule(
        "consent.GuardianConfirmation",
        "guardian's name and e-mail, confirmation link",
        "membership",
        "with the member",
        _MEMBER_ERASURE,
    ),
    Rule(
        "access.AccessEvent",
        "check-ins",
        "checkins",
        f"{_key('checkins_retention_days')} days after the membership ends¹, then kept without the member",
        _MEMBER_ERASURE,
    ),
    Rule("access.Visit", "visits (who is inside)", "checkins", "with the member", _MEMBER_ERASURE),
    Rule(
        "access.Scan",
        "door scans: frame, member number hash",
        "door_photos",
        f"frame: {_key('door_photo_max_hours')} hours at most (refused: {_key('denied_frame_hours')} hours); row: 1 day",
        "purge_due → ErasureJob 'door_photo'; access.services.purge_old_scans",
    ),
    Rule(
        "access.PinLockout",
        "wrong-PIN counts (member number hash)",
        "pin",
        "15 minutes after the window or lock (devices: 2 days)",
        "purge_due → access.services.purge_pin_lockouts",
    ),
    Rule(
        "access.ReportExport",
        "large access report files (member numbers)",
        "access_reports",
        "one download, or `JUSTFACE_REPORT_FILE_HOURS` (24) hours",
        "purge_due → access.reports.erase_expired_exports",
    ),
    Rule(
        "justface.AuditEntry",
        "audit trail (ids only)",
        "audit",
        f"{_key('audit_retention_days')} days (at least 365)",
        "purge_due → justface.audit.purge",
    ),
    Rule(
        "justface.User",
        "logins: a member's (no personal data in it), staff's",
        "membership",
        "a member's: with the member; staff's: until the operator removes them",
        _MEMBER_ERASURE,
    ),
    Rule(
        "authtoken.Token",
        "API tokens of logins",
        "membership",
        "`JUSTFACE_API_TOKEN_DAYS` (30) days after it was issued; a new password, a logout or the login's erasure at once",
        "purge_due → justface.accounts.delete_expired_api_tokens; justface.accounts.delete_login",
    ),
    Rule(
        "sessions.Session",
        "login sessions",
        "membership",
        "`SESSION_COOKIE_AGE` (2 weeks) after the last use",
        "daily schedule retention.clear_sessions (Django's clearsessions); erasure deletes the member's at once",
    ),
    Rule(
        "retention.ErasureJob",
        "erasure jobs (ids, a count)",
        "audit",
        f"{_key('erasure_job_retention_days')} days after the job is done",
        "purge_due → retention.services.purge_done_jobs",
    ),
)

# Tables that hold nothing about a person, and why.
NOT_PERSONAL: dict[str, str] = {
    "members.Chain": "the controller's own details; the DPO's name and e-mail are a business contact the chain publishes",
    "members.Centre": "places",
    "members.StaffRole": "ties a staff login to a chain and role; goes with the staff login",
    "consent.ConsentDocument": "the texts members are asked to agree to",
    "access.Door": "doors, and each door's liveness calibration (cuts, a histogram of scores: no member, no id)",
    "access.DeviceToken": "door tablets (hashed token)",
    "access.HourlyStat": "counts per centre and hour: no member, no id",
    "access.Challenge": "a scan's head-turn challenge (instruction, hashed nonce, scores, no frame); deleted with its scan",
    "retention.Processor": "companies the chain uses",
    "access.DoorAgent": "door agents beside the doors (hashed credential, software version, driver)",
    "access.DoorCommand": (
        "signed open commands (door id, access event id, times, nonce: no member); deleted a day after they "
        "are made (purge_due → access.door_agents.purge_commands)"
    ),
    "access.DoorEvent": (
        "door states and alarms (opened, forced or held open, agent offline): facts about a door. An `opened` "
        "event links the access event that opened the door and names no one itself; that access event loses its "
        "member at the member's erasure (check-ins, above), which unties the door event from any person"
    ),
}


def retention_table(rules: tuple[Rule, ...] = RULES) -> str:
    """The Markdown table of docs/retention.md (`python manage.py retention_table`)."""
    lines = ["| category | table | kept (policy key, default) | enforced by |", "|---|---|---|---|"]
    lines += [f"| {r.category} | `{r.table}` | {r.period} | {r.job} |" for r in rules]
    lines += [
        "",
        "¹ The membership ends on its end date; without one, on the day staff set the status to ended "
        "(`Member.ended_at`: later edits do not move it). Counted in whole days: kept through the last day "
        "of the period, deleted the day after.",
        "",
        "Tables that hold no personal data:",
        "",
    ]
    lines += [f"* `{table}`: {why}." for table, why in NOT_PERSONAL.items()]
    return "\n".join(lines) + "\n"

"""What members holds about a member, declared to the personal-data registry
(justface.personal_data): the processing activities, the retention of each table, what the member
sees and exports (members.subject_data), and how each category is erased."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from justface.personal_data import (
    CENTRE_STAFF,
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
    days_after_end,
    declare_not_personal,
    lines,
    register,
)
from members import faces, services, subject_data
from members.models import Member
from members.policy import ChainPolicy, default_key


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


def _request_words(policy: ChainPolicy) -> str:
    return ngettext(
        "Kept until %(days)d day after the request is closed, then deleted with the message and the answer.",
        "Kept until %(days)d days after the request is closed, then deleted with the message and the answer.",
        policy.requests_retention_days,
    ) % {"days": policy.requests_retention_days}


MEMBERSHIP = Activity(
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
    retention_words=after_end,
    enforced_by=MEMBER_ERASURE,
    stored=(_("Encrypted columns (Fernet) with keyed hashes for exact look-ups"),),
)

FACE = Activity(
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
)

FACE_HISTORY = Activity(
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
    enforced_by="members.faces.store_face_template (a face enrolled again); " + MEMBER_ERASURE,
)

PIN = Activity(
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
)

REQUESTS = Activity(
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
)

EXCLUSIONS = Activity(
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
)


# Retention per table: every table of this app that holds data about a person, with its period
# and the job that enforces it (docs/retention.md is these rendered: manage.py retention_table).
FACE_TABLES = (
    Rule(
        "members.FaceTemplate",
        "face templates, kept enrollment photos",
        "face",
        f"at once on withdrawal; {default_key('biometric_retention_days')} days after the membership ends¹",
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
        f"{default_key('checkins_retention_days')} days after the membership ends¹",
        "members.faces.store_face_template; " + MEMBER_ERASURE,
    ),
    Rule(
        "members.GalleryChange",
        "which members' face templates changed when (ids only)",
        "face",
        "2 days",
        "purge_due → members.gallery.purge_changes",
    ),
)
MEMBER_TABLES = (
    Rule(
        "members.Member",
        "master data, membership, guardian",
        "membership",
        f"{default_key('checkins_retention_days')} days after the membership ends¹",
        MEMBER_ERASURE,
    ),
    Rule(
        "members.Member.pin_hash",
        "door PIN (hash)",
        "pin",
        f"{default_key('pin_retention_days')} days after the membership ends¹",
        "purge_due → ErasureJob 'pin' (members.services.erase_pin)",
    ),
    Rule(
        "members.Invitation",
        "portal invitation links (hash of the link)",
        "membership",
        "with the member",
        MEMBER_ERASURE,
    ),
    Rule(
        "members.EmailChange",
        "pending e-mail changes (the new address)",
        "membership",
        "with the member",
        MEMBER_ERASURE,
    ),
    Rule(
        "members.DataSubjectRequest",
        "data-subject requests, the person's message and the answer",
        "requests",
        f"{default_key('requests_retention_days')} days after the request is closed",
        "purge_due → retention.services.purge_closed_requests",
    ),
    Rule(
        "members.Exclusion",
        "exclusion (quarantine) records",
        "exclusions",
        f"the day after the quarantine ends, at most {default_key('exclusion_max_days')} days after its start; permanent only "
        f"where {default_key('exclusion_permanent_allowed')}",
        "purge_due → ErasureJob 'exclusion'",
    ),
    Rule(
        "justface.User",
        "logins: a member's (no personal data in it), staff's",
        "membership",
        "a member's: with the member; staff's: until the operator removes them",
        MEMBER_ERASURE,
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
)

FACE_TEMPLATES = ReceiptLine("face_templates", _("Face templates"))
MEMBER_PHOTOS = ReceiptLine("member_photos", _("Kept enrollment photos"))
MEMBER_RECORD = (
    ReceiptLine("requests_redacted", _("Requests kept without the person's words")),
    ReceiptLine("invitations_deleted", _("Portal invitations")),
    ReceiptLine("email_changes_deleted", _("Pending e-mail changes")),
    ReceiptLine("login_deleted", _("Portal login deleted")),
    ReceiptLine("sessions_deleted", _("Login sessions")),
)


def _erase_face(member: Member, *, actor, reason: str) -> Erased:
    templates, photos = faces.erase_face_rows(member=member, actor=actor, reason=reason)
    return {FACE_TEMPLATES: templates, MEMBER_PHOTOS: photos}


def _erase_member_record(member: Member, *, actor, reason: str) -> Erased:
    return lines(MEMBER_RECORD, services.erase_member_record(member=member))


register(
    PersonalData(
        key="face",
        order=10,  # biometrics first
        biometric=True,
        activities=(FACE, FACE_HISTORY),
        tables=FACE_TABLES,
        held_about=lambda member: [subject_data.face(member), subject_data.face_history(member)],
        erase=_erase_face,
        receipt=(FACE_TEMPLATES, MEMBER_PHOTOS),
    )
)
register(
    PersonalData(
        key="member",
        order=90,  # the member's own row, their login and what hangs on them: last
        activities=(MEMBERSHIP, PIN, REQUESTS, EXCLUSIONS),
        tables=MEMBER_TABLES,
        held_about=lambda member: [
            subject_data.profile(member),
            subject_data.pin(member),
            subject_data.requests(member),
        ],
        erase=_erase_member_record,
        receipt=MEMBER_RECORD,
    )
)

# Tables that hold nothing about a person, and why.
declare_not_personal(
    "members.Chain",
    "the controller's own details; the DPO's name and e-mail are a business contact the chain publishes",
)
declare_not_personal("members.Centre", "places")
declare_not_personal(
    "members.InvitationRound",
    "a manager's bulk invitation: the centre, who started it, counts; the invitations name the members",
)
declare_not_personal("members.StaffRole", "ties a staff login to a chain and role; goes with the staff login")

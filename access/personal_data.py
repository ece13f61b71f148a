"""What access holds about a member, declared to the personal-data registry
(justface.personal_data): door photos and frames (biometric), check-ins, visits, scans, wrong-PIN
counts, statistics and report files."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from access import services, subject_data
from justface.personal_data import (
    CENTRE_STAFF,
    DPO_MANAGERS,
    HOSTING,
    MEMBER_ERASURE,
    MEMBERS,
    VISITORS,
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


CHECKINS = Activity(
    key="checkins",
    name=_("Access control (check-ins)"),
    purpose=_("Access control and support; counted without names in statistics for the centre."),
    legal_basis=_("Contract (GDPR Art. 6(1)(b)); statistics: legitimate interest (Art. 6(1)(f))."),
    data_subjects=(MEMBERS,),
    data_categories=(
        _("Time, centre, door, method (face or PIN), direction, decision and reason"),
        _("A note for staff where a door rule let the member in but asks them to look (anti-passback)"),
        _("How many faces the door's camera saw, and when the door opened after the entry"),
        _("Door events tied to the member's entry: the door opened after it, a tailgating hint"),
    ),
    recipients=(CENTRE_STAFF, DPO_MANAGERS, HOSTING),
    retention_key="checkins_retention_days",
    retention_words=after_end,
    enforced_by=MEMBER_ERASURE + "; the events stay without the member",
)

DOOR_PHOTOS = Activity(
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
)

DENIED_FRAMES = Activity(
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
)

STATISTICS = Activity(
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
)

ACCESS_REPORTS = Activity(
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
)


# Retention per table: every table of this app that holds data about a person, with its period
# and the job that enforces it (docs/retention.md is these rendered: manage.py retention_table).
DOOR_PHOTO_TABLES = (
    Rule(
        "access.Scan",
        "door scans: frame, member number hash",
        "door_photos",
        f"frame: {default_key('door_photo_max_hours')} hours at most (refused: {default_key('denied_frame_hours')} hours); row: 1 day",
        "purge_due → ErasureJob 'door_photo'; access.services.purge_old_scans",
    ),
)
CHECKIN_TABLES = (
    Rule(
        "access.AccessEvent",
        "check-ins",
        "checkins",
        f"{default_key('checkins_retention_days')} days after the membership ends¹, then kept without the member",
        MEMBER_ERASURE,
    ),
    Rule("access.Visit", "visits (who is inside)", "checkins", "with the member", MEMBER_ERASURE),
    Rule(
        "access.DoorEvent (opened, tailgating hint: linked to an access event that names a member)",
        "door events tied to a member's entry",
        "checkins",
        "as the access event they link: at the member's erasure it keeps no member, and the door event names no "
        "one; every door event is deleted `JUSTFACE_DOOR_EVENT_DAYS` (365) days after it happened",
        MEMBER_ERASURE + "; purge_due → access.door_agents.purge_door_events",
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
)

DOOR_PHOTOS_ERASED = ReceiptLine("door_photos", _("Door photos"))
CHECKINS_ERASED = (
    ReceiptLine("check_ins_anonymised", _("Check-ins kept without the member")),
    ReceiptLine("visits_deleted", _("Visits")),
    ReceiptLine("scans_deleted", _("Door scans")),
    ReceiptLine("pin_lockouts_deleted", _("Wrong-PIN counts")),
)


def _erase_door_photos(member: Member, *, actor, reason: str) -> Erased:
    return {DOOR_PHOTOS_ERASED: services.erase_door_photos(member=member)}


def _erase_checkins(member: Member, *, actor, reason: str) -> Erased:
    return lines(CHECKINS_ERASED, services.erase_member_access_data(member=member))


register(
    PersonalData(
        key="door_photos",
        order=20,  # biometric: right after the face templates and photos
        biometric=True,
        activities=(DOOR_PHOTOS, DENIED_FRAMES),
        tables=DOOR_PHOTO_TABLES,
        erase=_erase_door_photos,
        receipt=(DOOR_PHOTOS_ERASED,),
    )
)
register(
    PersonalData(
        key="checkins",
        order=30,
        activities=(CHECKINS, STATISTICS, ACCESS_REPORTS),
        tables=CHECKIN_TABLES,
        held_about=lambda member: [subject_data.checkins(member)],
        erase=_erase_checkins,
        receipt=CHECKINS_ERASED,
    )
)

declare_not_personal(
    "access.Door", "doors, and each door's liveness calibration (cuts, a histogram of scores: no member, no id)"
)
declare_not_personal("access.DeviceToken", "door tablets (hashed token)")
declare_not_personal("access.HourlyStat", "counts per centre and hour: no member, no id")
declare_not_personal(
    "access.Challenge",
    "a scan's head-turn challenge (instruction, hashed nonce, scores, no frame); deleted with its scan",
)
declare_not_personal("access.DoorAgent", "door agents beside the doors (hashed credential, software version, driver)")
declare_not_personal(
    "access.DoorCommand",
    "signed open commands (door id, access event id, times, nonce: no member); deleted a day after they are made "
    "(purge_due → access.door_agents.purge_commands)",
)
declare_not_personal(
    "access.DoorEvent",
    "door states and alarms not tied to a member (forced or held open, agent offline or back online, closed, and "
    "an `opened` or tailgating hint whose access event names no one): facts about a door; deleted "
    "`JUSTFACE_DOOR_EVENT_DAYS` (365) days after they happened (purge_due → access.door_agents.purge_door_events). "
    "An `opened` event or a tailgating hint links the access event that opened the door and names no one itself; "
    "while that access event names a member it is personal data (check-ins, above), until the member's erasure "
    "unties it",
)

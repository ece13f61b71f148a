"""The door's writes: device tokens, deciding scans and PIN entries, visits and door photos.
Views, the admin, commands, the retention job and the personal-data registry all come through
here. By topic:

- ``verdicts``: what a decision ends in (Verdict), ChallengeIssued, the shared time limits;
- ``devices`` and ``agents``: doors, tablets' and door agents' credentials, heartbeats;
- ``decision``: opening a scan and recording its one decision (event, visit, photo, counts);
- ``faces``: face scans, the grey zone, leaving by face, the challenge's answer;
- ``challenges``: the liveness step before identification, and unanswered challenges;
- ``pins`` and ``lockouts``: PIN entries and the PIN lockouts that bound them;
- ``expiry``: scans nobody finished; ``presence``: visits; ``frames``: door photos.

Callers use the names re-exported here (``from access import services``)."""

from access.services.agents import issue_door_agent, revoke_door_agent
from access.services.challenges import expire_challenge, expire_stale_challenges
from access.services.decision import open_scan
from access.services.devices import (
    LAST_SEEN_EVERY,
    device_supports,
    ensure_door,
    issue_device_token,
    record_heartbeat,
    revoke_device_token,
    touch_device,
)
from access.services.expiry import expire_scan_if_stale, expire_stale_scans
from access.services.faces import answer_challenge, decide_face_scan
from access.services.frames import drop_frame, erase_door_photos, purge_old_scans
from access.services.lockouts import (
    NUMBER_LOCKED,
    PIN_FAILURES_PER_DEVICE,
    PIN_FAILURES_PER_NUMBER,
    PIN_LOCKOUT,
    PIN_OPEN,
    PIN_PAD_LOCKED,
    PIN_WINDOW,
    forget_member_number,
    purge_pin_lockouts,
    reserve_pin_attempt,
    settle_pin_attempt,
    unlock_pin_pad,
)
from access.services.pins import confirm_scan, decide_pin
from access.services.presence import erase_member_access_data
from access.services.verdicts import (
    ALL_FEATURES,
    CONFIRM_WINDOW,
    DECISION_TIMEOUT,
    FEATURE_CHALLENGE,
    FEATURE_CONFIRM,
    ChallengeIssued,
    Verdict,
)

__all__ = [
    "ALL_FEATURES",
    "CONFIRM_WINDOW",
    "DECISION_TIMEOUT",
    "FEATURE_CHALLENGE",
    "FEATURE_CONFIRM",
    "LAST_SEEN_EVERY",
    "NUMBER_LOCKED",
    "PIN_FAILURES_PER_DEVICE",
    "PIN_FAILURES_PER_NUMBER",
    "PIN_LOCKOUT",
    "PIN_OPEN",
    "PIN_PAD_LOCKED",
    "PIN_WINDOW",
    "ChallengeIssued",
    "Verdict",
    "answer_challenge",
    "confirm_scan",
    "decide_face_scan",
    "decide_pin",
    "device_supports",
    "drop_frame",
    "ensure_door",
    "erase_door_photos",
    "erase_member_access_data",
    "expire_challenge",
    "expire_scan_if_stale",
    "expire_stale_challenges",
    "expire_stale_scans",
    "forget_member_number",
    "issue_device_token",
    "issue_door_agent",
    "open_scan",
    "purge_old_scans",
    "purge_pin_lockouts",
    "record_heartbeat",
    "reserve_pin_attempt",
    "revoke_device_token",
    "revoke_door_agent",
    "settle_pin_attempt",
    "touch_device",
    "unlock_pin_pad",
]

"""Writes that matter for members: each is one auditable entry point used by views, API, admin
actions, commands and jobs alike. By topic: ``pins``, ``accounts`` (login name, invitations,
profile, e-mail change, the member record's erasure), ``exclusions``, ``export``
(portability) and ``requests`` (data-subject requests). Import them from here."""

from members.services.accounts import (
    RECTIFIABLE_FIELDS,
    accept_invitation,
    confirm_email_change,
    erase_member_record,
    invitation_email,
    invite_member,
    login_username,
    rectify_profile,
    request_email_change,
)
from members.services.exclusions import check_exclusions, create_exclusion, exclusion_warning
from members.services.export import export_member_data
from members.services.pins import PIN_PATTERN, erase_pin, pin_matches, set_pin, validate_pin
from members.services.requests import (
    EmailFailed,
    apply_request_effect,
    carry_out_erasure_request,
    close_data_subject_request,
    erasure_request_problem,
    extend_deadline,
    file_data_subject_request,
    lift_restriction,
    receipt_counts,
    record_data_subject_request,
    record_identity_check,
    redact_data_subject_requests,
    resolve_data_subject_request,
    send_request_outcome,
)

__all__ = [
    "PIN_PATTERN",
    "RECTIFIABLE_FIELDS",
    "EmailFailed",
    "accept_invitation",
    "apply_request_effect",
    "carry_out_erasure_request",
    "check_exclusions",
    "close_data_subject_request",
    "confirm_email_change",
    "create_exclusion",
    "erase_member_record",
    "erase_pin",
    "erasure_request_problem",
    "exclusion_warning",
    "export_member_data",
    "extend_deadline",
    "file_data_subject_request",
    "invitation_email",
    "invite_member",
    "lift_restriction",
    "login_username",
    "pin_matches",
    "receipt_counts",
    "record_data_subject_request",
    "record_identity_check",
    "rectify_profile",
    "redact_data_subject_requests",
    "request_email_change",
    "resolve_data_subject_request",
    "send_request_outcome",
    "set_pin",
    "validate_pin",
]

"""Chains (the data controllers), their centres, staff roles, members and face templates, by
topic: ``chains`` (chains, centres, staff roles), ``member`` (members, exclusions, keyed
hashes), ``faces`` (templates, pending photo, gallery log), ``links`` (invitations, e-mail
changes), ``rounds`` (invitation rounds), ``requests`` (data-subject requests). Import them from here."""

from members.models.chains import Centre, Chain, Language, Liveness, StaffRole
from members.models.faces import FaceTemplate, GalleryChange, PendingFacePhoto
from members.models.links import EmailChange, Invitation
from members.models.member import (
    Exclusion,
    Member,
    email_hash,
    member_number_hash,
    name_birth_hash,
    phone_hash,
)
from members.models.requests import DataSubjectRequest, add_months
from members.models.rounds import InvitationRound

__all__ = [
    "Centre",
    "Chain",
    "DataSubjectRequest",
    "EmailChange",
    "Exclusion",
    "FaceTemplate",
    "GalleryChange",
    "Invitation",
    "InvitationRound",
    "Language",
    "Liveness",
    "Member",
    "PendingFacePhoto",
    "StaffRole",
    "add_months",
    "email_hash",
    "member_number_hash",
    "name_birth_hash",
    "phone_hash",
]

"""How the audit trail reads to people (justface.display): its actions and the objects they touch.

An action is "<subject>.<verb>"; the common verbs (add, change, delete, view, list, export, erase,
purge) read as "<subject>: <verb>" from the nouns below, the others have a label of their own.
tests/justface/test_labels.py finds every action the code writes and checks it has a label in
en, da and nb."""

from django.utils.translation import gettext_lazy as _

from justface import display
from justface.models import AuditEntry

display.register(
    "audit.object",
    {
        "member": _("Member"),
        "face": _("Face template"),
        "biometrics": _("Face template and photos"),
        "exclusion": _("Exclusion"),
        "dsr": _("Data-protection request"),
        "datasubjectrequest": _("Data-protection request"),
        "door_photo": _("Door photo"),
        "door": _("Door"),
        "devicetoken": _("Door device token"),
        "dooragent": _("Door agent"),
        "doorevent": _("Door event"),
        "accessevent": _("Access event"),
        "visit": _("Visit"),
        "access": _("Access report"),
        "consent": _("Consent"),
        "consentrecord": _("Consent record"),
        "consent_document": _("Consent text"),
        "consentdocument": _("Consent text"),
        "marketing_consent": _("Marketing consent"),
        "marketing": _("Marketing consent"),
        "pin": _("Door PIN"),
        "chain": _("Chain"),
        "centre": _("Centre"),
        "invitation": _("Invitation"),
        "staffrole": _("Staff role"),
        "user": _("User"),
        "staff": _("Staff login"),
        "audit": _("Audit trail"),
        "auditentry": _("Audit entry"),
        "register": _("Processing register"),
        "dpia": _("DPIA fact sheet"),
        "processor": _("Data processor"),
        "erasure_job": _("Erasure job"),
        "erasurejob": _("Erasure job"),
        "reportexport": _("Report file"),
    },
)
display.register(
    "audit.action",
    {
        "member.restriction_lifted": _("Member: restriction lifted"),
        "member.request_effect": _("Member: request carried out"),
        "member.rectify": _("Member: data corrected"),
        "member.pin_set": _("Member: PIN set"),
        "member.pin_erase": _("Member: PIN erased"),
        "member.invite": _("Member: invited"),
        "member.invitation_accepted": _("Member: invitation accepted"),
        "member.export_self": _("Member: downloaded own data"),
        "member.email_changed": _("Member: e-mail changed"),
        "member.email_change_requested": _("Member: e-mail change asked for"),
        "face.enroll": _("Face template: enrolled"),
        "face.reenroll": _("Face template: enrolled again"),
        "face.photo_view": _("Face template: photo viewed"),
        "exclusion.match": _("Exclusion: matched a person"),
        "dsr.update": _("Data-protection request: handled"),
        "dsr.identity": _("Data-protection request: identity checked"),
        "dsr.file": _("Data-protection request: filed"),
        "dsr.extend": _("Data-protection request: deadline extended"),
        "door.token_issue": _("Door: device token issued"),
        "door.token_revoke": _("Door: device token revoked"),
        "door.agent_issue": _("Door: agent credential issued"),
        "door.agent_revoke": _("Door: agent credential revoked"),
        "door.pin_lockout": _("Door: PIN locked after wrong tries"),
        "door.pin_unlock": _("Door: PIN unlocked"),
        "consent_document.publish": _("Consent text: published"),
        "consent.sign": _("Consent: signed"),
        "consent.withdraw": _("Consent: withdrawn"),
        "consent.guardian_confirm": _("Consent: confirmed by guardian"),
        "access.report": _("Access report: run"),
        "access.report_download": _("Access report: file downloaded"),
        "staff.login_lockout": _("Staff login: locked after wrong tries"),
    },
)
display.register("audit.actor_kind", AuditEntry.ActorKind.choices)

"""How access codes read to people (justface.display): reasons, liveness layers, methods, decisions."""

from django.utils.translation import gettext_lazy as _

from access.models import AccessEvent, Direction, DoorEvent, Method, ReportExport, Scan
from justface import display

REASONS = {
    "ok": _("Let in"),
    "no_face": _("No face seen"),
    "multiple_faces": _("More than one face"),
    "poor_quality": _("Image too poor"),
    "not_recognised": _("Not recognised"),
    "no_consent": _("No face-scan consent"),
    "reconsent_needed": _("New consent needed"),
    "face_paused": _("Face entry paused"),
    "membership_inactive": _("Membership not active"),
    "excluded": _("Excluded"),
    "outside_opening_hours": _("Outside opening hours"),
    "wrong_pin": _("Wrong PIN"),
    "pin_locked": _("PIN locked"),
    "confirm_pin": _("PIN confirmation not given"),
    "not_confirmed": _("Not confirmed by PIN"),
    "unavailable": _("Could not be decided"),
    "liveness_failed": _("Not a live face"),
    "use_pin": _("Tablet cannot check the face: PIN offered"),
    "goodbye": _("Goodbye (no one named)"),
    "door_closed": _("Door closed at this hour"),
    "membership_type_not_allowed": _("Membership type not allowed at this door"),
    "exit_only": _("Exit-only door"),
    "anti_passback": _("Already inside (anti-passback)"),
    "pin_reused": _("PIN just used at another door"),
}

display.register("access.reason", REASONS)
# A door rule that let the member in but wants staff to look (AccessEvent.flag).
display.register("access.flag", {"anti_passback": _("Second entry without check-out (anti-passback)")})
display.register(
    "access.liveness_layer",
    {
        "passive": _("Passive check"),
        "challenge": _("Head-turn challenge"),
    },
)
display.register("access.method", Method.choices)
display.register("access.direction", Direction.choices)
display.register("access.decision", AccessEvent.Decision.choices)
display.register("access.scan_status", Scan.Status.choices)
display.register("access.export_status", ReportExport.Status.choices)
display.register("access.door_event", DoorEvent.Kind.choices)

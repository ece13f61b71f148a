"""How access codes read to people (justface.display): reasons, liveness layers, methods, decisions."""

from django.utils.translation import gettext_lazy as _

from access.messages import Reason
from access.models import AccessEvent, Direction, Method, ReportExport, Scan
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
    "goodbye": _("Checked out, no one named"),
    "use_pin": _("Sent to the PIN pad"),
}
assert set(REASONS) == {r.value for r in Reason}, "every reason code needs a label here"

display.register("access.reason", REASONS)
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

"""What the door tablet shows, by decision reason, in the centre's language (da, nb, en)."""

from __future__ import annotations

from enum import StrEnum

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Reason(StrEnum):
    OK = "ok"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    POOR_QUALITY = "poor_quality"
    NOT_RECOGNISED = "not_recognised"
    NO_CONSENT = "no_consent"
    # A new version of the face-scan consent waits for the member's signature: the PIN works.
    RECONSENT_NEEDED = "reconsent_needed"
    # Face entry is paused for the member (a restriction of their data): the PIN works.
    FACE_PAUSED = "face_paused"
    MEMBERSHIP_INACTIVE = "membership_inactive"
    EXCLUDED = "excluded"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    WRONG_PIN = "wrong_pin"
    PIN_LOCKED = "pin_locked"
    # The face matched a member only moderately: that member's PIN must confirm (status confirm),
    # and it did not come in time.
    CONFIRM_PIN = "confirm_pin"
    NOT_CONFIRMED = "not_confirmed"
    # The decision could not be made (the engine failed, or the scan waited too long).
    UNAVAILABLE = "unavailable"
    # The face was not shown to be a live person: a print, a screen, or a challenge not met
    # (the access event says which layer: liveness_layer).
    LIVENESS_FAILED = "liveness_failed"
    # A check-out by face that names no one (status granted, no member): the frame was not shown
    # to be clearly live, or the face may not or cannot name a member.
    GOODBYE = "goodbye"
    # The door would have asked for a liveness challenge or a grey-zone PIN, which this tablet has
    # not declared it can show: a final refusal that sends the person to the PIN pad.
    USE_PIN = "use_pin"
    # Rules per door (access.rules): the door's own opening hours, membership types
    # allowed, exit only, anti-passback, and a PIN used at another door within a minute.
    DOOR_CLOSED = "door_closed"
    MEMBERSHIP_TYPE_NOT_ALLOWED = "membership_type_not_allowed"
    EXIT_ONLY = "exit_only"
    ANTI_PASSBACK = "anti_passback"
    PIN_REUSED = "pin_reused"


DENIED = {
    Reason.NO_FACE: _("We could not see a face. Please look straight at the camera."),
    Reason.MULTIPLE_FACES: _("Only one person at a time, please. Step up to the camera alone."),
    Reason.POOR_QUALITY: _("Please stand still in front of the camera and try again."),
    Reason.NOT_RECOGNISED: _("We did not recognise you. Please use your PIN."),
    Reason.NO_CONSENT: _("Face scan is not switched on for you. Please use your PIN."),
    Reason.RECONSENT_NEEDED: _(
        "Face entry is paused until you accept the new face-scan terms in the member portal. Please use your PIN."
    ),
    Reason.FACE_PAUSED: _(
        "Face entry is paused for you while your data-protection request is handled. Please use your PIN."
    ),
    Reason.MEMBERSHIP_INACTIVE: _("Your membership is not active. Please contact the front desk."),
    Reason.EXCLUDED: _("Entry is not possible. Please contact the front desk."),
    Reason.OUTSIDE_OPENING_HOURS: _("The centre is closed right now."),
    Reason.WRONG_PIN: _("Member number or PIN is not correct. After 5 wrong tries a number is locked for 15 minutes."),
    Reason.PIN_LOCKED: _("Too many wrong PINs. Please wait 15 minutes or contact the front desk."),
    Reason.CONFIRM_PIN: _("Please enter your PIN to confirm it is you."),
    Reason.NOT_CONFIRMED: _("No PIN was entered. Please scan again or use the PIN pad."),
    Reason.UNAVAILABLE: _("We could not check you in just now. Please try again or use your PIN."),
    Reason.LIVENESS_FAILED: _("We could not confirm that you are here in person. Please try again, or use your PIN."),
    Reason.USE_PIN: _("This door cannot check your face this time. Please use your PIN."),
    Reason.DOOR_CLOSED: _("This door is closed right now. Please use another entrance."),
    Reason.MEMBERSHIP_TYPE_NOT_ALLOWED: _("Your membership does not include this area. Please ask the front desk."),
    Reason.EXIT_ONLY: _("This door is an exit only. Please use the entrance."),
    Reason.ANTI_PASSBACK: _("You are already checked in. Please check out before entering again."),
    Reason.PIN_REUSED: _("This PIN was just used at another door. Please contact the front desk."),
}
WELCOME = pgettext_lazy("door greeting on entry", "Welcome, %(name)s!")
GOODBYE = pgettext_lazy("door greeting on leaving", "Goodbye, %(name)s. See you soon!")
# A check-out that names no one (Reason.GOODBYE): the same words for everybody.
GOODBYE_ANYONE = pgettext_lazy("door greeting on leaving, no name", "Goodbye. See you soon!")
PENDING = _("One moment…")


def door_message(*, language: str, status: str, reason: str, direction: str, first_name: str = "") -> str:
    with translation.override(language):
        if status in ("pending", "challenge"):
            return str(PENDING)
        if status == "granted" and reason == Reason.GOODBYE:
            return str(GOODBYE_ANYONE)
        if status == "granted":
            return str(GOODBYE if direction == "out" else WELCOME) % {"name": first_name}
        return str(DENIED[Reason(reason)])

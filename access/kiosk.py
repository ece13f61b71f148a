"""The kiosk page a door tablet's browser shows. It holds no data: the tablet pairs with its
device token (kept in the browser's localStorage) and then talks to the door API only."""

from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from justface.middleware import uses_camera

TEXTS = {
    "pair_title": _("Pair this tablet"),
    "pair_help": _("Enter the device token a manager issued for this door. It is kept on this tablet only."),
    "pair_token": _("Device token"),
    "pair_button": _("Pair"),
    "pair_failed": _("That token was not accepted. Check it and try again."),
    "revoked": _("This tablet's token is no longer valid. Ask a manager for a new one."),
    "look_in": _("Look at the camera to check in"),
    "look_out": _("Look at the camera to check out"),
    "checking": _("Checking…"),
    "challenge_title": _("One more check: look at the camera and follow the arrow."),
    "use_pin": _("Use PIN instead"),
    "leaving": _("I am leaving"),
    "member_number": _("Member number"),
    "pin": _("PIN"),
    "ok": _("OK"),
    "cancel": _("Cancel"),
    "clear": _("Clear"),
    "pin_format": _("Enter your member number and a PIN of 4 to 8 digits."),
    "camera_off": _("The camera is not available. Please use your PIN."),
    "offline": _("No connection. Please try again, or ask the staff for help."),
    "unavailable": _("The system is not answering right now. Please use the PIN pad, or ask the staff for help."),
}


@uses_camera
@require_GET
def kiosk(request):
    texts = {}
    for language in ("en", "da", "nb"):
        with translation.override(language):
            texts[language] = {key: str(text) for key, text in TEXTS.items()}
    return render(request, "access/kiosk.html", {"texts": texts})

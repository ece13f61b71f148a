"""The event types a chain's endpoint can subscribe to, with their labels (staff read them in the
admin; the codes are what receivers get in `type`)."""

from django.utils.translation import gettext_lazy as _

ACCESS_GRANTED = "access.granted"
ACCESS_REFUSED = "access.refused"
ACCESS_CHECK_OUT = "access.check_out"
DOOR_FORCED_OPEN = "door.forced_open"
DOOR_HELD_OPEN = "door.held_open"
DOOR_AGENT_OFFLINE = "door.agent_offline"
CONSENT_GIVEN = "consent.given"
CONSENT_WITHDRAWN = "consent.withdrawn"
MEMBER_ERASED = "member.erased"

EVENT_TYPES = {
    ACCESS_GRANTED: _("Check-in let in"),
    ACCESS_REFUSED: _("Check-in refused (with the reason code)"),
    ACCESS_CHECK_OUT: _("Check-out"),
    DOOR_FORCED_OPEN: _("Door forced open"),
    DOOR_HELD_OPEN: _("Door held open"),
    DOOR_AGENT_OFFLINE: _("Door agent offline"),
    CONSENT_GIVEN: _("Consent given"),
    CONSENT_WITHDRAWN: _("Consent withdrawn"),
    MEMBER_ERASED: _("Member erased"),
}

CHOICES = list(EVENT_TYPES.items())

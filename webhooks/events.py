"""The event types a chain's endpoint can subscribe to, with their labels (staff read them in the
admin; the codes are what receivers get in `type`). They are the events feed's kinds
(integration.models.FeedEvent.Kind takes its values from here): one vocabulary for the feed and
the webhooks, and one `data` per event, built by integration.signals for both."""

from django.utils.translation import gettext_lazy as _

CHECK_IN = "access.check_in"
CHECK_OUT = "access.check_out"
REFUSED = "access.refused"
DOOR_ALARM = "door.alarm"  # the alarm's kind is in `data.alarm`
CONSENT_GIVEN = "consent.given"
CONSENT_WITHDRAWN = "consent.withdrawn"
FACE_ERASED = "erasure.face"
MEMBER_ERASED = "erasure.member"

EVENT_TYPES = {
    CHECK_IN: _("Check-in"),
    CHECK_OUT: _("Check-out"),
    REFUSED: _("Entry refused"),
    DOOR_ALARM: _("Door alarm"),
    CONSENT_GIVEN: _("Consent given"),
    CONSENT_WITHDRAWN: _("Consent withdrawn"),
    FACE_ERASED: _("Face data erased"),
    MEMBER_ERASED: _("Member erased"),
}

CHOICES = list(EVENT_TYPES.items())

"""How members' codes read to people (justface.display)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from justface import display
from members.models import DataSubjectRequest, Exclusion, Invitation, Liveness, Member

display.register("member.status", Member.Status.choices)
display.register("member.gender", Member.Gender.choices)
display.register("exclusion.category", Exclusion.Category.choices)
display.register("request.kind", DataSubjectRequest.Kind.choices)
display.register("request.objection", DataSubjectRequest.Objection.choices)
display.register("request.channel", DataSubjectRequest.Channel.choices)
display.register("request.status", DataSubjectRequest.Status.choices)
display.register("centre.liveness", Liveness.choices)
display.register("language", settings.LANGUAGES)  # each language by its own name
display.register("invitation.delivery", Invitation.Delivery.choices)
display.register("audit.object", {"invitationround": _("Invitation round"), "invitation_round": _("Invitation round")})
display.register(
    "audit.action",
    {
        "invitation_round.start": _("Invitation round: started"),
        "invitation_round.cancel": _("Invitation round: cancelled"),
        "invitation_round.finish": _("Invitation round: all sent"),
        "invitation.bounce": _("Invitation: marked as bounced"),
    },
)

"""How members' codes read to people (justface.display)."""

from django.conf import settings

from justface import display
from members.models import DataSubjectRequest, Exclusion, Liveness, Member

display.register("member.status", Member.Status.choices)
display.register("member.gender", Member.Gender.choices)
display.register("exclusion.category", Exclusion.Category.choices)
display.register("request.kind", DataSubjectRequest.Kind.choices)
display.register("request.objection", DataSubjectRequest.Objection.choices)
display.register("request.channel", DataSubjectRequest.Channel.choices)
display.register("request.status", DataSubjectRequest.Status.choices)
display.register("centre.liveness", Liveness.choices)
display.register("language", settings.LANGUAGES)  # each language by its own name

"""How consent's codes read to people (justface.display)."""

from consent.models import ConsentDocument, ConsentRecord
from justface import display

display.register("consent.document", ConsentDocument.Kind.choices)
display.register("consent.action", ConsentRecord.Action.choices)
display.register("consent.channel", ConsentRecord.Channel.choices)

"""How the import's codes read to people (justface.display)."""

from django.utils.translation import gettext_lazy as _

from imports.models import ImportJob
from justface import display

display.register("import.state", ImportJob.State.choices)
display.register("audit.object", {"importjob": _("Member import"), "import": _("Member import")})
display.register(
    "audit.action",
    {
        "import.start": _("Member import: file uploaded"),
        "import.finish": _("Member import: run ended"),
    },
)

"""How the integration app's audit entries read to people (justface.display)."""

from django.utils.translation import gettext_lazy as _

from justface import display

display.register(
    "audit.object",
    {
        "integration": _("Integration"),
        "integrationkey": _("Integration key"),
        "integration_key": _("Integration key"),
    },
)
display.register(
    "audit.action",
    {
        "integration_key.issue": _("Integration key: issued"),
        "integration_key.revoke": _("Integration key: revoked"),
        "integration_key.use": _("Integration key: used"),
        "integration_key.refused": _("Integration key: refused"),
    },
)

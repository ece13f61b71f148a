from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Integration")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Its categories of personal data; the signals that fill the feeds; the key's OpenAPI scheme.
        from integration import personal_data, signals  # noqa: F401
        from integration.api import base  # noqa: F401

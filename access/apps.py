from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Door access")

    def ready(self) -> None:
        # The Device scheme in the OpenAPI schema; access's categories of personal data.
        from access import authentication, personal_data  # noqa: F401

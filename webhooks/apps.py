from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # The receivers that turn access, door and consent rows into events; the registry entry
        # of the delivery log; the labels of its codes and audit actions.
        from webhooks import labels, personal_data, receivers  # noqa: F401

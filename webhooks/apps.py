from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # The registry entry of the delivery log; the labels of its codes and audit actions. The
        # events themselves come from integration.signals, which builds each one for the feed too.
        from webhooks import labels, personal_data  # noqa: F401

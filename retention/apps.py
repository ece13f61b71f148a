from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention and register")

    def ready(self) -> None:
        from retention import personal_data  # noqa: F401  (registers its categories of personal data)

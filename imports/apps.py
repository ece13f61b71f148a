from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Member import")

    def ready(self) -> None:
        from imports import personal_data  # noqa: F401  (registers the import jobs' tables)

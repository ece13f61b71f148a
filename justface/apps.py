from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JustfaceConfig(AppConfig):
    name = "justface"
    verbose_name = _("Justface platform")

    def ready(self):
        from justface import checks  # noqa: F401  (registers the deployment checks)

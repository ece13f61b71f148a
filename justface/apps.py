from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JustfaceConfig(AppConfig):
    name = "justface"
    verbose_name = _("Justface platform")

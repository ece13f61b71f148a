from django.apps import AppConfig


class JustfaceConfig(AppConfig):
    name = "justface"
    verbose_name = "Justface platform"

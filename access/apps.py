from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"

    def ready(self) -> None:
        from access import authentication  # noqa: F401  (registers the Device scheme in the OpenAPI schema)
        from access.receivers import connect

        connect()

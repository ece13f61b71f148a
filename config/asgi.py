"""ASGI entry point (the project is served over WSGI by gunicorn: deploy/; this is for an ASGI
server, should one be used)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

#!/usr/bin/env python
"""Django's command-line entry point for Justface."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "justface.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # load settings now: a missing or bad setting is one line, not a traceback
    except ImproperlyConfigured as exc:
        sys.exit(f"justface: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

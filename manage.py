#!/usr/bin/env python
"""Django's command-line entry point for Justface."""

import os
import sys


def _settings_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--settings="):
            return arg.split("=", 1)[1]
        if arg == "--settings" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = _settings_from_argv(sys.argv) or os.environ.get(
        "DJANGO_SETTINGS_MODULE", "config.settings"
    )
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

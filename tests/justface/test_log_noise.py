"""An ordinary 403 is one log line, not tracebacks; a 500 keeps its traceback."""

import logging

from django.conf import settings

from justface.log_filters import ClientErrorsWithoutTraceback


def test_a_refusal_logs_one_line(world, login, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert login("frontdesk_a").get("/staff/reports/access/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records  # Django attaches the traceback to each (exc_info)
    handler_filter = ClientErrorsWithoutTraceback()
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    for record in records:
        assert handler_filter.filter(record)
        assert "Traceback" not in formatter.format(record)  # the console prints one line
    assert "client_errors_short" in settings.LOGGING["handlers"]["console"]["filters"]


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", None, sys.exc_info()
        )
    record.status_code = 500
    assert ClientErrorsWithoutTraceback().filter(record)
    assert "Traceback" in logging.Formatter().format(record)


def test_the_worker_is_quiet_in_development():
    """django-q2's routine INFO lines (every 30-60 s) are not shown under DEBUG: its own log_level
    is ignored once the root logger has a handler, so the level is set on its logger."""
    import os
    import subprocess
    import sys

    code = (
        "import django, logging; django.setup(); from django_q.conf import logger; "
        "print(logging.getLevelName(logger.getEffectiveLevel()))"
    )
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    env.pop("JUSTFACE_Q_LOG_LEVEL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert out.stdout.strip().splitlines()[-1] == "WARNING", out.stderr

"""Logging filters (settings.LOGGING)."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Django logs every 4xx answer (an ordinary 403, a 404) as a warning with the exception's
    traceback: one line is enough for a refusal that is working as designed. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", 500) < 500:
            record.exc_info, record.exc_text = None, None
        return True

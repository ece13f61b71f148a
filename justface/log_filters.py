"""Logging filters (settings.LOGGING)."""

import logging
import re


class ClientErrorsWithoutTraceback(logging.Filter):
    """Django logs every 4xx answer (an ordinary 403, a 404) as a warning with the exception's
    traceback: one line is enough for a refusal that is working as designed. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", 500) < 500:
            record.exc_info, record.exc_text = None, None
        return True


class MemberIdsOutOfPaths(logging.Filter):
    """The integration API names a member in its path (PUT /api/v1/integration/members/<member
    number>): Django's request log lines ("Bad Request: <path>") keep the endpoint, not the number."""

    PATTERN = re.compile(r"(/api/v1/integration/members/)(?!bulk\b)[^\s\"?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1{external_id}", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.PATTERN.sub(r"\1{external_id}", record.msg)
        return True

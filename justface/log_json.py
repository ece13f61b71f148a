"""One JSON object per log line (JUSTFACE_LOG_FORMAT=json): what a log shipper indexes.

Every line has time, level, logger, node, request id and message; a request's or a task's line
adds its route, status, duration and the chain, centre and door ids (justface.request_log,
monitoring.tasks). Nothing here adds personal data: messages name objects by id (a test runs a
door, portal and erasure flow and looks for members' data in every line)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from justface.request_context import current_request_id

# Extra fields a record may carry (logger.info(..., extra={...})) that become keys of the line.
FIELDS = ("route", "method", "status", "duration_ms", "chain", "centre", "door", "task", "task_id", "outcome")


class JsonFormatter(logging.Formatter):
    def __init__(self, node: str = "", **kwargs):
        super().__init__(**kwargs)
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "node": self.node,
            "request_id": getattr(record, "request_id", None) or current_request_id() or None,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)

"""One log line per request (logger justface.request; JSON in production: justface.log_json) with
its route pattern (never the path itself: a path may hold a token), status, duration, and the
chain, centre and door ids the request was about; and the door API's latency metric."""

from __future__ import annotations

import logging
import time

from justface import metrics
from justface.request_context import current_ids, reset_ids, start_ids

logger = logging.getLogger("justface.request")

DOOR_API = "/api/v1/door/"
# Probes every few seconds from a load balancer or Prometheus: no line each (nginx logs them).
QUIET = ("/livez", "/healthz", "/metrics")


class RequestLogMiddleware:
    """After RequestIdMiddleware (the line carries the request id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        token = start_ids()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - start
            ids = current_ids()
        finally:
            reset_ids(token)
        match = getattr(request, "resolver_match", None)
        if request.path_info.startswith(DOOR_API) and match is not None:
            metrics.door_request(ids=ids, endpoint=match.url_name or "", seconds=seconds)
        if not request.path_info.startswith(QUIET):
            logger.info(
                "%s %s %s",
                request.method,
                match.route if match is not None else "(no route)",
                response.status_code,
                extra={
                    "route": match.route if match is not None else "",
                    "method": request.method,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    **ids,
                },
            )
        return response

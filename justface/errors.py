"""How the site answers requests it cannot serve: one place, so that no error is an HTML 500 on
the APIs and none is a traceback anywhere.

The APIs (/api/...) answer JSON with a `detail`; the pages a short plain-text page. Used by the
DRF exception handler (justface.rest), the request guard middleware and handler500."""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

logger = logging.getLogger("justface.errors")

# Seconds a client is asked to wait when the database is away (the kiosk retries on its own).
RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = "The service is temporarily unavailable. Try again shortly."


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_response(request: HttpRequest, status: int, detail: str, *, retry_after: int | None = None) -> HttpResponse:
    if is_api(request):
        response = JsonResponse({"detail": detail}, status=status)
    else:
        response = HttpResponse(detail + "\n", status=status, content_type="text/plain; charset=utf-8")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    # An error is never worth caching: the next try may well succeed.
    response["Cache-Control"] = "no-store"
    return response


def response_for_exception(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The answer to an exception that is the client's or the database's fault; None for bugs,
    which stay 500s (logged with their traceback by Django)."""
    if isinstance(exc, OperationalError | InterfaceError):
        # Refused connections, connect and statement timeouts (QueryCanceled is an OperationalError).
        logger.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return error_response(request, 503, DATABASE_UNAVAILABLE, retry_after=RETRY_AFTER_SECONDS)
    if isinstance(exc, RequestDataTooBig):
        return error_response(request, 413, "The request body is too large.")
    if isinstance(exc, MultiPartParserError):
        return error_response(request, 400, f"Multipart form parse error - {exc}")
    if isinstance(exc, SuspiciousOperation):
        # TooManyFieldsSent, TooManyFilesSent (named in the detail), DisallowedHost, ...
        logger.warning("refused request: %s", type(exc).__name__)
        return error_response(request, 400, _suspicious_detail(exc))
    return None


def _suspicious_detail(exc: SuspiciousOperation) -> str:
    name = type(exc).__name__
    if name == "TooManyFieldsSent":
        return "The request has too many fields."
    if name == "TooManyFilesSent":
        return "The request has too many files."
    return "The request was refused as malformed."


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the last net, for faults raised outside a view (a middleware, say). Django
    calls it while handling the exception, so sys.exc_info() still names it."""
    answer = response_for_exception(request, sys.exc_info()[1]) if sys.exc_info()[1] else None
    return answer or error_response(request, 500, "Something went wrong on our side. It has been logged; try again.")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """handler403: a page in the reader's language that says why and leads back, never a bare
    "403 Forbidden". Staff get the pages their role may open (justface.staff_nav)."""
    from django.shortcuts import render

    from justface.staff_nav import entries_for

    if is_api(request):
        return error_response(request, 403, "You do not have permission to perform this action.")
    user = getattr(request, "user", None)
    staff = bool(user is not None and user.is_authenticated and user.is_staff)
    context = {"staff": staff, "entries": entries_for(user) if staff else []}
    if staff:
        from django.contrib import admin

        context.update(admin.site.each_context(request))
    return render(request, "403.html", context, status=403)

"""Request-wide middleware: the request id, the guard against requests the database cannot take
(and the JSON/plain answers to faults the views leave), and the response headers that no view
should have to remember."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import add_never_cache_headers

from justface.errors import error_response, response_for_exception
from justface.request_context import new_request_id, reset_request_id, set_request_id

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_DETAIL = "The request contains a NUL character, which is not allowed."

# Pages whose content is a member's personal data (or a door's decision about one): never kept
# by a browser's or a proxy's cache.
NO_STORE_PREFIXES = ("/me/", "/api/v1/me/", "/api/v1/door/", "/staff/front-desk/")
# Only the kiosk and the selfie pages (views marked with @uses_camera) may ask for the camera.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
CAMERA_PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=()"


class RequestIdMiddleware:
    """Gives every request an id (echoed as X-Request-ID) that audit entries record."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = new_request_id(request.headers.get("X-Request-ID"))
        token = set_request_id(request.id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request.id
        return response


class RequestGuardMiddleware:
    """Refuses (400) a NUL character anywhere in the path, the query string or a form field:
    PostgreSQL cannot store or compare one, so it would surface as a 500 in whatever view
    filters on it. Also answers the faults views raise but do not handle (database away: 503;
    too many fields, body too large: 400/413) as JSON on /api/ and a short page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            has_nul = _has_nul(request)
        except (SuspiciousOperation, MultiPartParserError) as exc:  # too many fields, malformed, ...
            return response_for_exception(request, exc)
        if has_nul:
            return error_response(request, 400, NUL_DETAIL)
        return self.get_response(request)

    def process_exception(self, request, exception):
        return response_for_exception(request, exception)


def _has_nul(request) -> bool:
    if "\x00" in request.path or "\x00" in request.path_info:
        return True
    if _any_nul(request.GET):
        return True
    if request.method != "POST" or not request.content_type.startswith(_FORM_TYPES):
        return False
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Larger bodies are uploads: not parsed here just to look at their fields (the door refuses
    # a scan over 5 MB by its declared length, unread). Their fields still go through a form or
    # a serializer, and both refuse NUL.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and declared > limit:
        return False
    # (Uploaded files' names need no check: Django drops non-printable characters from them.)
    return _any_nul(request.POST)


def _any_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


def uses_camera(view):
    """Marks a view whose page asks for the camera (Permissions-Policy: camera=(self))."""
    view.uses_camera = True
    return view


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response (the camera only where a view is marked
    @uses_camera) and Cache-Control: no-store on the personal pages and APIs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        camera = getattr(request, "_uses_camera", False)
        response.setdefault("Permissions-Policy", CAMERA_PERMISSIONS_POLICY if camera else PERMISSIONS_POLICY)
        if request.path_info.startswith(NO_STORE_PREFIXES) and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._uses_camera = getattr(view_func, "uses_camera", False)


class StaffLanguageMiddleware:
    """Staff read the admin and their desk in the language they chose (User.language), whatever
    their browser says; members keep the portal's own switcher. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        user = getattr(request, "user", None)
        # Only staff pages look at the login (others must not touch the session: /healthz).
        staff_path = request.path.startswith(("/admin/", "/staff/"))
        language = (
            getattr(user, "language", "")
            if staff_path and user is not None and user.is_authenticated and user.is_staff
            else ""
        )
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.setdefault("Content-Language", language)
        return response

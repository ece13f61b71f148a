from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from justface import errors, health


def home(request):
    """Staff land in the admin; everyone else (members) in the portal."""
    return redirect("admin:index" if request.user.is_authenticated and request.user.is_staff else "portal:home")


# The Swagger UI comes from the project's own static files (drf-spectacular-sidecar), never a CDN:
# this origin also serves the kiosk (its device token is in localStorage) and the admin. Its page
# style is a file and its start-up script a separate request (the "split" view), so the page needs
# nothing beyond the site's Content-Security-Policy.
api_docs = SpectacularSwaggerSplitView.as_view(
    url_name="api-schema", permission_classes=[], template_name="api/swagger_ui.html"
)


def old_erasure_queue(request):
    """The erasure queue had an admin page of its own until an erasure request's own page carried
    the erasure: old bookmarks land on the open erasure requests."""
    return redirect(reverse("admin:members_datasubjectrequest_changelist") + "?kind__exact=erasure&due=open")


def old_erasure_request(request, request_id: int):
    return redirect("admin:members_datasubjectrequest_change", request_id)


def old_front_desk(request, name: str = "front-desk", **kwargs):
    """The front desk's pages were under the member portal's /desk/ until every staff page moved
    under /staff/: old bookmarks land on the same page there."""
    return redirect(f"staff:{name}", **kwargs)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the site's icon (no 404 in every log)."""
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("admin/retention/erasurerequest/", old_erasure_queue),
    path("admin/retention/erasurerequest/<int:request_id>/change/", old_erasure_request),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("healthz", health.healthz),
    path("livez", health.livez),
    path("metrics", include("monitoring.urls")),
    path("api/v1/door/", include("access.api_urls")),
    path("api/v1/agent/", include("access.agent_api_urls")),
    path("kiosk/", include("access.kiosk_urls")),
    path("api/v1/me/", include("members.api_urls")),
    path("api/v1/statistics/", include("access.stats_api_urls")),
    path("api/v1/integration/", include("integration.api_urls")),
    path("staff/", include(("config.staff_urls", "staff"))),
    path("desk/", old_front_desk),
    path("desk/members/<int:member_id>/", old_front_desk, {"name": "front-desk-member"}),
    path("desk/reviews/", old_front_desk, {"name": "front-desk-reviews"}),
    path("desk/reviews/<int:member_id>/", old_front_desk, {"name": "front-desk-review"}),
    path("", include("members.portal_urls")),
]

handler403 = errors.permission_denied
handler500 = errors.server_error

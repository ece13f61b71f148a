from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.shortcuts import redirect
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def home(request):
    """Staff land in the admin; everyone else (members) in the portal."""
    return redirect("admin:index" if request.user.is_authenticated and request.user.is_staff else "portal:home")


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[]), name="api-docs"),
    path("healthz", healthz),
    path("api/v1/door/", include("access.api_urls")),
    path("kiosk/", include("access.kiosk_urls")),
    path("api/v1/me/", include("members.api_urls")),
    path("", include("members.portal_urls")),
]

"""The staff pages outside the model admin, under /staff/ (namespace "staff"): each app's staff
URLs wired together here, above the apps."""

from django.urls import include, path

from justface import staff_desk

urlpatterns = [
    path("language/", staff_desk.language, name="language"),
    path("", include("consent.staff_urls")),
    path("", include("access.staff_urls")),
    path("", include("retention.staff_urls")),
    path("", include("imports.staff_urls")),
]

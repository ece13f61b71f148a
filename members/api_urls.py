"""The member API at /api/v1/me/ (namespace "me-api"). Consent and face endpoints are
consent.api's, mounted here by name (URL wiring, as in config/urls.py: no module of members
imports consent)."""

from django.urls import include, path

from members.api import views

app_name = "me-api"

urlpatterns = [
    path("token/", views.TokenView.as_view(), name="token"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/email/", views.EmailChangeView.as_view(), name="email"),
    path("pin/", views.PinView.as_view(), name="pin"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("requests/", views.RequestsView.as_view(), name="requests"),
    path("", include("consent.api_urls")),
]

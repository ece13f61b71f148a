"""The member portal (mounted at / by config/urls.py), namespace "portal".

The member's own pages are members.portal's; the consent, face and front-desk pages are
consent.portal's, mounted here by name (a URL conf wires layers together, as config/urls.py
does: no module of members imports consent)."""

from django.urls import include, path
from django.views.generic import TemplateView

from members.portal import views

app_name = "portal"

urlpatterns = [
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/password-reset/", views.password_reset, name="password-reset"),
    path(
        "accounts/password-reset/sent/",
        TemplateView.as_view(template_name="members/portal/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirm.as_view(), name="password-reset-confirm"),
    path(
        "accounts/reset/done/",
        TemplateView.as_view(template_name="members/portal/password_reset_complete.html"),
        name="password-reset-complete",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept-invitation"),
    path("email/confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("me/profile/", views.profile, name="profile"),
    path("me/pin/", views.pin, name="pin"),
    path("me/password/", views.password_change, name="password-change"),
    path("me/data/", views.my_data, name="my-data"),
    path("me/data/export/", views.export, name="export"),
    path("me/requests/", views.requests, name="requests"),
    path("", include("consent.portal_urls")),
]

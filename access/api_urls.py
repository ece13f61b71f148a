from django.urls import path

from access.api import views as api

urlpatterns = [
    path("scans/", api.ScanListView.as_view(), name="door-scans"),
    path("scans/<str:scan_id>/", api.ScanDetailView.as_view(), name="door-scan-detail"),
    path("scans/<str:scan_id>/confirm/", api.ScanConfirmView.as_view(), name="door-scan-confirm"),
    path("scans/<str:scan_id>/challenge/", api.ScanChallengeView.as_view(), name="door-scan-challenge"),
    path("pin/", api.PinView.as_view(), name="door-pin"),
    path("heartbeat/", api.HeartbeatView.as_view(), name="door-heartbeat"),
]

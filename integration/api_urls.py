"""The integration API at /api/v1/integration/ (namespace "integration-api")."""

from django.urls import path

from integration.api import views

app_name = "integration-api"

urlpatterns = [
    path("members/bulk", views.BulkView.as_view(), name="members-bulk"),
    path("members", views.MembersFeedView.as_view(), name="members"),
    path("members/<str:external_id>", views.MemberView.as_view(), name="member"),
    path("events", views.EventsView.as_view(), name="events"),
]

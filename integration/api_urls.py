"""The integration API at /api/v1/integration/ (namespace "integration-api")."""

from django.urls import path

from integration.api import views, webhooks

app_name = "integration-api"

urlpatterns = [
    path("members/bulk", views.BulkView.as_view(), name="members-bulk"),
    path("members", views.MembersFeedView.as_view(), name="members"),
    path("members/<str:external_id>", views.MemberView.as_view(), name="member"),
    path("events", views.EventsView.as_view(), name="events"),
    path("webhooks", webhooks.EndpointsView.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>", webhooks.EndpointView.as_view(), name="webhook"),
    path("webhooks/<int:endpoint_id>/secret", webhooks.SecretView.as_view(), name="webhook-secret"),
    path("webhooks/<int:endpoint_id>/deliveries", webhooks.DeliveriesView.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay",
        webhooks.ReplayView.as_view(),
        name="webhook-replay",
    ),
]

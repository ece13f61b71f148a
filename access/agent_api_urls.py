from django.urls import path

from access.api import agent

urlpatterns = [
    path("commands/", agent.CommandsView.as_view(), name="agent-commands"),
    path("reports/", agent.ReportsView.as_view(), name="agent-reports"),
]

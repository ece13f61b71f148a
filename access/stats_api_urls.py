from django.urls import path

from access.api import statistics

urlpatterns = [
    path("centres/", statistics.StatisticsCentresView.as_view(), name="statistics-centres"),
    path("centres/<int:centre_id>/hourly/", statistics.StatisticsHourlyView.as_view(), name="statistics-hourly"),
]

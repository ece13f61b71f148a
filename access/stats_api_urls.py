from django.urls import path

from access import stats_views

urlpatterns = [
    path("centres/", stats_views.StatisticsCentresView.as_view(), name="statistics-centres"),
    path("centres/<int:centre_id>/hourly/", stats_views.StatisticsHourlyView.as_view(), name="statistics-hourly"),
]

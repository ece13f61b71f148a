from django.urls import path

from access import staff_views

urlpatterns = [
    path("reports/access/", staff_views.access_report, name="access-report"),
    path("reports/access/member/<int:member_id>/", staff_views.member_report, name="member-report"),
    path("reports/access/files/<uuid:export_id>/", staff_views.report_export, name="report-export"),
    path("reports/access/files/<uuid:export_id>/download/", staff_views.report_download, name="report-download"),
    path("liveness/", staff_views.door_liveness, name="door-liveness"),
    path("doors/", staff_views.door_status, name="door-status"),
]

from access import stats_views  # noqa: E402

urlpatterns += [
    path("statistics/", stats_views.centres, name="statistics"),
    path("statistics/<int:centre_id>/", stats_views.centre_statistics, name="statistics-centre"),
    path("statistics/<int:centre_id>/<str:chart>.csv", stats_views.centre_statistics_csv, name="statistics-csv"),
]

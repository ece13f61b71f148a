"""The statistics pages (per centre, with charts and their numbers as CSV) and the same figures
over the API for a chain's BI tools. Reads go through access.stats with the user's scope."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from access import charts, stats
from access.stats import Period
from justface.accounts import ExpiringTokenAuthentication
from justface.exports import spreadsheet_row
from justface.staff_pages import render_staff, staff_page
from justface.tenancy import Perm, scope_for

WEEKDAY_LABELS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]
MAX_DAYS = 366


def _period(params) -> tuple[Period, date]:
    """?from=&to= (default: the last 28 days) and ?day= (default: the last day); bad dates raise ValueError."""
    today = timezone.localdate()
    end = date.fromisoformat(params["to"]) if params.get("to") else today
    start = date.fromisoformat(params["from"]) if params.get("from") else end - timedelta(days=27)
    if end < start:
        raise ValueError(_("The period ends before it starts."))
    if (end - start).days >= MAX_DAYS:
        raise ValueError(_("Choose a period of at most a year."))
    day = date.fromisoformat(params["day"]) if params.get("day") else end
    return Period(start, end), day


def _series(scope, centre, period, day) -> dict[str, list[dict]]:
    return {
        "heatmap": stats.week_heatmap(scope=scope, centre=centre, period=period),
        "day": stats.day_curve(scope=scope, centre=centre, day=day),
        "month": stats.month_trend(scope=scope, centre=centre, period=period),
        "hourly": stats.hourly_rows(scope=scope, centre=centre, period=period),
    }


@staff_page(Perm.VIEW_STATISTICS)
def centres(request):
    return render_staff(
        request,
        "access/staff/statistics_index.html",
        {"centres": stats.centres_for(request.scope)},
        title=_("Statistics"),
    )


@staff_page(Perm.VIEW_STATISTICS)
def centre_statistics(request, centre_id: int):
    centre = get_object_or_404(stats.centres_for(request.scope), pk=centre_id)
    try:
        period, day = _period(request.GET)
        error = ""
    except ValueError as exc:
        (period, day), error = _period({}), str(exc)
    data = _series(request.scope, centre, period, day)
    has_data = any(r["check_ins"] or r["peak_inside"] for r in data["hourly"])
    return render_staff(
        request,
        "access/staff/statistics.html",
        {
            "centre": centre,
            "period": period,
            "day": day,
            "error": error,
            "has_data": has_data,
            "query": f"from={period.start}&to={period.end}&day={day}",
            "heatmap": charts.heatmap(
                data["heatmap"],
                weekday_labels=[str(w) for w in WEEKDAY_LABELS],
                title=_("Check-ins by weekday and hour"),
            ),
            "day_chart": charts.lines(
                data["day"],
                keys=[
                    ("check_ins", _("Check-ins"), "#2f6f9f"),
                    ("check_outs", _("Check-outs"), "#999999"),
                    ("peak_inside", _("Most inside"), "#c0392b"),
                ],
                x_key="hour",
                title=_("The day, hour by hour"),
            ),
            "month_chart": charts.lines(
                data["month"],
                keys=[("check_ins", _("Check-ins"), "#2f6f9f"), ("peak_inside", _("Most inside"), "#c0392b")],
                x_key="day",
                title=_("Day by day"),
            ),
        },
        title=_("Statistics: %(centre)s") % {"centre": centre.name},
    )


@staff_page(Perm.VIEW_STATISTICS)
def centre_statistics_csv(request, centre_id: int, chart: str):
    centre = get_object_or_404(stats.centres_for(request.scope), pk=centre_id)
    try:
        period, day = _period(request.GET)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    rows = _series(request.scope, centre, period, day).get(chart)
    if rows is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statistics-{centre.slug}-{chart}-{period.start}-{period.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(spreadsheet_row(rows[0] if rows else ["hour", "check_ins", "check_outs", "denied", "peak_inside"]))
    writer.writerows(spreadsheet_row(r.values()) for r in rows)
    return response


# --- API -------------------------------------------------------------------------------------


class StaffStatistics(BasePermission):
    def has_permission(self, request, view):
        return scope_for(request.user).can(Perm.VIEW_STATISTICS)


CentreSerializer = inline_serializer(
    "StatisticsCentre",
    many=True,
    fields={
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "slug": serializers.CharField(),
        "time_zone": serializers.CharField(),
    },
)
HourSerializer = inline_serializer(
    "StatisticsHour",
    many=True,
    fields={
        "hour": serializers.DateTimeField(help_text="Start of the hour, the centre's local time."),
        "check_ins": serializers.IntegerField(),
        "check_outs": serializers.IntegerField(),
        "denied": serializers.IntegerField(),
        "peak_inside": serializers.IntegerField(help_text="Most members inside at once in the hour."),
    },
)
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="First day (YYYY-MM-DD, the centre's local date); default: 27 days before `to`."
    ),
    OpenApiParameter("to", str, description="Last day (YYYY-MM-DD); default: today. At most a year in all."),
]


class StatisticsAPIView(APIView):
    """Anonymous hourly counts for a chain's BI tools: a staff session or a staff token
    (`Authorization: Token <key>`, made by the operator with `manage.py drf_create_token`)."""

    # Token first: an anonymous call then gets 401 with WWW-Authenticate, not 403.
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [StaffStatistics]


class StatisticsCentresView(StatisticsAPIView):
    @extend_schema(tags=["statistics"], responses=CentreSerializer, summary="The centres whose statistics you may read")
    def get(self, request):
        return Response(
            [
                {"id": c.pk, "name": c.name, "slug": c.slug, "time_zone": c.time_zone}
                for c in stats.centres_for(scope_for(request.user))
            ]
        )


class StatisticsHourlyView(StatisticsAPIView):
    @extend_schema(
        tags=["statistics"],
        parameters=PERIOD_PARAMETERS,
        responses=HourSerializer,
        summary="Check-ins, check-outs, refusals and the peak inside, per hour of one centre (hours with data)",
    )
    def get(self, request, centre_id: int):
        scope = scope_for(request.user)
        centre = stats.centres_for(scope).filter(pk=centre_id).first()
        if centre is None:
            raise NotFound()
        try:
            period, _day = _period(request.query_params)
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(stats.hourly_rows(scope=scope, centre=centre, period=period))

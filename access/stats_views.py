"""The statistics pages (per centre, with charts and their numbers as CSV); the same figures over
the API are access.api.statistics. Reads go through access.stats with the user's scope."""

from __future__ import annotations

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access import charts, stats
from justface.exports import spreadsheet_row
from justface.staff_pages import render_staff, staff_page
from justface.tenancy import Perm

WEEKDAY_LABELS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


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
        period, day = stats.period_from(request.GET)
        error = ""
    except ValueError as exc:
        (period, day), error = stats.period_from({}), str(exc)
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
        period, day = stats.period_from(request.GET)
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

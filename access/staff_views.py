"""Staff pages of the access app: access reports (and their background files) and the hourly
statistics. Thin: the work is in access.reports and access.stats."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from access import reports
from access.models import ReportExport
from access.report_forms import ReportForm
from justface.staff_pages import render_staff, staff_page
from justface.tenancy import Perm
from members.models import Member


def _send(report: reports.Report):
    if report.export is not None:
        return redirect("staff:report-export", export_id=report.export.pk)
    if report.chunks is not None:
        response = StreamingHttpResponse(report.chunks, content_type=reports.CONTENT_TYPES["csv"])
    else:
        response = HttpResponse(report.content, content_type=reports.CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{report.name}"'
    return response


@staff_page(Perm.RUN_REPORTS)
def access_report(request):
    form = ReportForm(request.POST or None, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        report = reports.run_report(
            scope=request.scope, actor=request.user, filters=form.filters, fmt=form.cleaned_data["file_format"]
        )
        return _send(report)
    exports = request.scope.filter(ReportExport.objects.filter(requested_by=request.user))[:10]
    return render_staff(
        request,
        "access/staff/report_form.html",
        {"form": form, "exports": exports, "inline_rows": settings.JUSTFACE_REPORT_INLINE_ROWS},
        title=_("Access report"),
    )


@staff_page(Perm.RUN_REPORTS)
def member_report(request, member_id: int):
    """Everything about one member's visits (for an access request): every access event since
    the membership started, one click from the member's admin page."""
    member = get_object_or_404(request.scope.filter(Member.objects.select_related("chain")), pk=member_id)
    fmt = request.GET.get("format")
    if fmt in reports.FORMATS:
        filters = reports.build_filters(
            scope=request.scope,
            chain=member.chain,
            member=member,
            date_from=min(member.start_date, date(2000, 1, 1)),
            date_to=timezone.localdate(),
        )
        return _send(
            reports.run_report(scope=request.scope, actor=request.user, filters=filters, fmt=fmt, how="member page")
        )
    return render_staff(
        request,
        "access/staff/member_report.html",
        {"member_id": member.pk},
        title=_("Access report for member %(number)s") % {"number": member.member_number},
    )


def _own_export(request, export_id) -> ReportExport:
    export = request.scope.filter(ReportExport.objects.filter(pk=export_id, requested_by=request.user)).first()
    if export is None:
        raise Http404
    return export


@staff_page(Perm.RUN_REPORTS)
def report_export(request, export_id):
    export = _own_export(request, export_id)
    return render_staff(
        request,
        "access/staff/report_export.html",
        {
            "export": export,
            "working": export.status in (ReportExport.Status.QUEUED, ReportExport.Status.RUNNING),
        },
        title=_("Access report file"),
    )


@staff_page(Perm.RUN_REPORTS)
def report_download(request, export_id):
    taken = reports.take_export_file(export_id=_own_export(request, export_id).pk, user=request.user)
    if taken is None:
        raise Http404(_("This file has been downloaded already, has expired, or is not ready."))
    export, content = taken
    response = HttpResponse(content, content_type=reports.CONTENT_TYPES[export.file_format])
    name = reports.file_name(reports.ReportFilters.from_dict(export.filters), export.file_format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_page(Perm.VIEW_CHAIN_SETUP)
def door_liveness(request):
    """Each door's liveness calibration: when it was last calibrated, the cuts it
    holds frames against, how its recent granted face entries scored (door-level counts only)
    and how often it challenged in the last 30 days."""
    from access import liveness as door_liveness_lib
    from access.models import Door

    since = timezone.now() - timedelta(days=30)
    edges = door_liveness_lib.HISTOGRAM_EDGES
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    doors = []
    for door in request.scope.filter(Door.objects.select_related("centre")).order_by("centre__name", "name"):
        stats = door.liveness_stats or {}
        histogram = stats.get("histogram") or [0] * len(labels)
        total = sum(histogram)
        rate = door_liveness_lib.challenge_rate(door, since=since)
        doors.append(
            {
                "door": door,
                "calibrated": bool(door.liveness_reference),
                "reference": door_liveness_lib.door_reference(door),
                "entries": stats.get("entries", 0),
                "bins": [
                    {"label": label, "count": n, "share": round(100 * n / total) if total else 0}
                    for label, n in zip(labels, histogram)
                ],
                "rate": rate,
                "rate_pct": None if rate["rate"] is None else round(100 * rate["rate"]),
            }
        )
    return render_staff(request, "access/staff/door_liveness.html", {"doors": doors}, title=_("Liveness per door"))


# How often the door status page reloads itself (seconds): a live view without JavaScript.
DOOR_STATUS_REFRESH = 10


@staff_page(Perm.VIEW_MEMBERS)
def door_status(request):
    """Each door of the staff member's centres, live: open or closed by its contact,
    its agent online or not, and its latest door events (forced, held open, offline...)."""
    from access.models import Door, DoorAgent, DoorEvent

    now = timezone.now()
    offline_after = timedelta(seconds=settings.JUSTFACE_DOOR_AGENT_OFFLINE_SECONDS)
    doors = list(request.scope.filter(Door.objects.select_related("centre")).order_by("centre__name", "name"))
    agents: dict[int, list] = {}
    for agent in DoorAgent.objects.filter(door__in=doors, revoked_at=None):
        agents.setdefault(agent.door_id, []).append(agent)
    rows = []
    for door in doors:
        episode = (
            DoorEvent.objects.filter(door=door, kind__in=[DoorEvent.Kind.OPENED, DoorEvent.Kind.FORCED_OPEN])
            .order_by("-at")
            .first()
        )
        own = agents.get(door.pk, [])
        online = any(a.last_seen_at and now - a.last_seen_at < offline_after for a in own)
        rows.append(
            {
                "door": door,
                "has_agent": bool(own),
                "online": online,
                "last_seen": max((a.last_seen_at for a in own if a.last_seen_at), default=None),
                "open": episode is not None and episode.closed_at is None,
                "open_since": episode.at if episode is not None and episode.closed_at is None else None,
                "events": list(DoorEvent.objects.filter(door=door).order_by("-at")[:10]),
            }
        )
    response = render_staff(
        request,
        "access/staff/door_status.html",
        {"rows": rows, "refresh": DOOR_STATUS_REFRESH, "alarms": DoorEvent.ALARMS},
        title=_("Door status"),
    )
    response["Refresh"] = str(DOOR_STATUS_REFRESH)
    return response

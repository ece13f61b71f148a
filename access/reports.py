"""Access reports: the access events a DPO or manager asks for, as CSV or XLSX, from the staff
page, the member's admin page and `manage.py access_report` alike.

Every report is read through the caller's Scope (justface.tenancy), starts with a header (who
ran it, when, the filters, the chain's retention note), and is one audit entry (filters as ids
and codes, the row count; never a name). Reports over JUSTFACE_REPORT_INLINE_ROWS are written by a django-q
task into an encrypted file that its requester may download once before it expires."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access import door_reports
from access.models import AccessEvent, Door, ReportExport
from justface import audit, private_files
from justface.exports import spreadsheet_row
from justface.tenancy import Scope
from members.models import Centre, Chain, Member, member_number_hash

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PROGRESS_EVERY = 2_000

COLUMNS = [
    ("at", gettext_lazy("Time")),
    ("centre", gettext_lazy("Centre")),
    ("door", gettext_lazy("Door")),
    ("member_number", gettext_lazy("Member number")),
    ("method", gettext_lazy("Method")),
    ("direction", gettext_lazy("Direction")),
    ("decision", gettext_lazy("Decision")),
    ("reason", gettext_lazy("Reason")),
    ("score", gettext_lazy("Score")),
    # When the door's agent reported the relay moved for this grant; empty: no agent.
    ("door_opened_at", gettext_lazy("Door opened")),
]


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: ids and codes only (they go into the audit trail as they are)."""

    chain_id: int
    date_from: date
    date_to: date
    centre_ids: tuple[int, ...] = ()
    door_ids: tuple[int, ...] = ()
    member_id: int | None = None
    decision: str = ""
    reason: str = ""
    method: str = ""
    direction: str = ""
    door_events: str = door_reports.ALL  # all, alarms or none (access.door_reports)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(
            date_from=self.date_from.isoformat(),
            date_to=self.date_to.isoformat(),
            centre_ids=list(self.centre_ids),
            door_ids=list(self.door_ids),
        )
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ReportFilters:
        return cls(
            **{
                **data,
                "date_from": date.fromisoformat(data["date_from"]),
                "date_to": date.fromisoformat(data["date_to"]),
                "centre_ids": tuple(data["centre_ids"]),
                "door_ids": tuple(data["door_ids"]),
            }
        )

    def describe(self) -> str:
        """One line, ids and codes only (audit reason, file header)."""
        parts = [
            f"{self.date_from}..{self.date_to}",
            "centres=" + (",".join(map(str, self.centre_ids)) or "all"),
            "doors=" + (",".join(map(str, self.door_ids)) or "all"),
            f"member={self.member_id or 'all'}",
        ]
        parts += [
            f"{name}={getattr(self, name)}"
            for name in ("decision", "reason", "method", "direction")
            if getattr(self, name)
        ]
        if self.door_events != door_reports.ALL:
            parts.append(f"door_events={self.door_events}")
        return "; ".join(parts)


def build_filters(
    *,
    scope: Scope,
    chain: Chain,
    date_from: date | None,
    date_to: date | None,
    centres: Iterable[Centre] = (),
    doors: Iterable[Door] = (),
    member_number: str = "",
    member: Member | None = None,
    decision: str = "",
    reason: str = "",
    method: str = "",
    direction: str = "",
    door_events: str = door_reports.ALL,
) -> ReportFilters:
    """Check what was asked against the scope; a ValidationError (per field) says what is wrong."""
    errors: dict[str, str] = {}
    if date_from is None or date_to is None:
        errors["date_to"] = _("Give both the first and the last day of the period.")
    elif date_to < date_from:
        errors["date_to"] = _("The period ends before it starts.")
    if not scope.contains(chain):
        raise ValidationError({"chain": _("Unknown chain.")})
    centres, doors = list(centres), list(doors)
    if any(c.chain_id != chain.pk or not scope.contains(c) for c in centres):
        errors["centres"] = _("A centre you chose is not one of this chain's centres you may see.")
    if any(d.centre.chain_id != chain.pk or not scope.contains(d) for d in doors):
        errors["doors"] = _("A door you chose is not one of this chain's doors you may see.")
    if member is None and member_number.strip():
        member = scope.filter(
            Member.objects.filter(chain=chain, member_number_hash=member_number_hash(member_number))
        ).first()
        if member is None:
            errors["member_number"] = _("No member of this chain has that member number.")
    elif member is not None and (member.chain_id != chain.pk or not scope.contains(member)):
        errors["member_number"] = _("No member of this chain has that member number.")
    for name, value, choices in (
        ("decision", decision, AccessEvent.Decision),
        ("method", method, AccessEvent.Method),
        ("direction", direction, AccessEvent.Direction),
    ):
        if value and value not in choices.values:
            errors[name] = _("Unknown value.")
    if door_events not in dict(door_reports.CHOICES):
        errors["door_events"] = _("Unknown value.")
    if errors:
        raise ValidationError(errors)
    return ReportFilters(
        chain_id=chain.pk,
        date_from=date_from,
        date_to=date_to,
        centre_ids=tuple(sorted(c.pk for c in centres)),
        door_ids=tuple(sorted(d.pk for d in doors)),
        member_id=member.pk if member else None,
        decision=decision,
        reason=reason.strip(),
        method=method,
        direction=direction,
        door_events=door_events,
    )


def events(*, scope: Scope, filters: ReportFilters):
    """The report's access events, oldest first, inside the scope."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(filters.date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(filters.date_to + timedelta(days=1), time.min), tz)
    qs = scope.filter(AccessEvent.objects.filter(centre__chain=filters.chain_id, at__gte=start, at__lt=end))
    if filters.centre_ids:
        qs = qs.filter(centre__in=filters.centre_ids)
    if filters.door_ids:
        qs = qs.filter(door__in=filters.door_ids)
    if filters.member_id:
        qs = qs.filter(member=filters.member_id)
    for name in ("decision", "reason", "method", "direction"):
        if getattr(filters, name):
            qs = qs.filter(**{name: getattr(filters, name)})
    return qs.order_by("at", "pk")


def retention_note(chain: Chain) -> str:
    days = chain.policy.checkins_retention_days
    return _(
        "Check-ins are kept until %(days)d days after the membership ends (the chain's policy), then kept "
        "only without the member. This file holds personal data: keep it safe and delete it when it has "
        "served its purpose."
    ) % {"days": days}


def filters_in_words(filters: ReportFilters) -> str:
    """The filters as a person reads them (the file's header): names, member numbers, labels.
    (ReportFilters.describe() keeps ids and codes, for the audit trail.)"""
    from justface.display import label, when

    def names(model, ids) -> str:
        return ", ".join(str(o) for o in model.objects.filter(pk__in=ids)) if ids else str(_("all"))

    member = Member.objects.only("member_number").filter(pk=filters.member_id).first() if filters.member_id else None
    parts = [
        f"{when(filters.date_from)} – {when(filters.date_to)}",
        f"{_('Centres')}: {names(Centre, filters.centre_ids)}",
        f"{_('Doors')}: {names(Door, filters.door_ids)}",
        f"{_('Member')}: {member.member_number if member else _('all')}",
    ]
    for name, title in (("decision", _("Decision")), ("reason", _("Reason")), ("method", _("Method"))):
        if getattr(filters, name):
            parts.append(f"{title}: {label('access.' + name, getattr(filters, name))}")
    if filters.direction:
        parts.append(f"{_('Direction')}: {label('access.direction', filters.direction)}")
    parts.append(f"{door_reports.TITLE}: {dict(door_reports.CHOICES)[filters.door_events]}")
    return "; ".join(parts)


def header_lines(
    *, chain: Chain, filters: ReportFilters, actor_label: str, rows: int, at: datetime, door_rows: int | None = None
) -> list[tuple[str, str]]:
    door_line = [] if door_rows is None else [(str(door_reports.TITLE), str(door_rows))]
    return [
        (_("Justface access report"), chain.name),
        (_("Run by"), actor_label),
        (_("Run at"), timezone.localtime(at).isoformat(timespec="seconds")),
        (_("Filters"), filters_in_words(filters)),
        (_("Time zone"), str(timezone.get_current_timezone())),
        (_("Rows"), str(rows)),
        *door_line,
        (_("Retention"), retention_note(chain)),
    ]


def _rows(queryset, chain_id: int) -> Iterator[list]:
    """Report rows; each member's number is decrypted once, not once per event. The events are
    already scoped: names and numbers are looked up only for what they point to."""
    centres = dict(Centre.objects.filter(chain=chain_id).values_list("pk", "name"))
    doors = dict(Door.objects.filter(centre__chain=chain_id).values_list("pk", "name"))
    numbers: dict[int, str] = {}
    for event in queryset.iterator(chunk_size=2000):
        number = ""
        if event.member_id:
            if event.member_id not in numbers:
                member = Member.objects.only("member_number").filter(pk=event.member_id).first()
                numbers[event.member_id] = member.member_number if member else ""
            number = numbers[event.member_id]
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            centres.get(event.centre_id, ""),
            doors.get(event.door_id, ""),
            number,
            event.method,
            event.direction,
            event.decision,
            event.reason,
            "" if event.score is None else round(event.score, 3),
            ""
            if event.door_opened_at is None
            else timezone.localtime(event.door_opened_at).isoformat(timespec="seconds"),
        ]


class _Echo:
    def write(self, value):
        return value


def csv_chunks(
    *, header: list[tuple[str, str]], queryset, chain_id: int, progress=None, door_events=None
) -> Iterator[str]:
    """The CSV, line by line (for a streaming response or a file)."""
    writer = csv.writer(_Echo())
    for key, value in header:
        yield writer.writerow(spreadsheet_row([key, value]))
    yield writer.writerow([])
    yield writer.writerow(spreadsheet_row(label for _key, label in COLUMNS))
    for n, row in enumerate(_rows(queryset, chain_id), 1):
        yield writer.writerow(spreadsheet_row(row))
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    if door_events is not None and door_events.exists():  # a second table, after an empty line and its title
        yield writer.writerow([])
        yield writer.writerow(spreadsheet_row([door_reports.TITLE]))
        yield writer.writerow(spreadsheet_row(title for _key, title in door_reports.COLUMNS))
        for row in door_reports.rows(door_events):
            yield writer.writerow(spreadsheet_row(row))


def xlsx_bytes(*, header: list[tuple[str, str]], queryset, chain_id: int, progress=None, door_events=None) -> bytes:
    from openpyxl import Workbook  # imported here: only reports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Access events"))
    # Every cell, the header's too: openpyxl writes a string that starts with "=" as a formula.
    for key, value in header:
        sheet.append(spreadsheet_row([key, value]))
    sheet.append([])
    sheet.append(spreadsheet_row(label for _key, label in COLUMNS))
    for n, row in enumerate(_rows(queryset, chain_id), 1):
        sheet.append(spreadsheet_row(row))
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    if door_events is not None:  # a sheet of their own
        doors = book.create_sheet(str(door_reports.TITLE))
        doors.append(spreadsheet_row(title for _key, title in door_reports.COLUMNS))
        for row in door_reports.rows(door_events):
            doors.append(spreadsheet_row(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(filters: ReportFilters, fmt: str) -> str:
    member = f"-member{filters.member_id}" if filters.member_id else ""
    return f"access-report-{filters.date_from}-{filters.date_to}{member}.{fmt}"


def actor_label(user) -> str:
    if user is None:
        return _("operator (command line)")
    return f"{user.get_username()} (#{user.pk})"


def _audit(*, actor, filters: ReportFilters, fmt: str, rows: int, how: str, door_rows: int | None = None) -> None:
    doors = "" if door_rows is None else f"door_events={door_rows}; "
    audit.record(
        action="access.report",
        actor=actor,
        object_type="access.accessevent",
        chain_id=filters.chain_id,
        reason=f"{how}; {fmt}; rows={rows}; {doors}{filters.describe()}",
    )


@dataclass
class Report:
    """A report ready to send: either its content (chunks or bytes) or, when large, an export job."""

    filters: ReportFilters
    fmt: str
    rows: int
    name: str
    chunks: Iterator[str] | None = None
    content: bytes | None = None
    export: ReportExport | None = None
    header: list = field(default_factory=list)


def run_report(
    *, scope: Scope, actor, filters: ReportFilters, fmt: str, how: str = "staff page", inline_max: int | None = None
) -> Report:
    """One report: audited once, inline when small, as a background export when large."""
    if fmt not in FORMATS:
        raise ValidationError({"file_format": _("Choose CSV or XLSX.")})
    chain = Chain.objects.get(pk=filters.chain_id)
    queryset = events(scope=scope, filters=filters)
    rows = queryset.count()
    door_qs = door_reports.door_events(scope=scope, filters=filters)
    door_rows = None if door_qs is None else door_qs.count()
    limit = settings.JUSTFACE_REPORT_INLINE_ROWS if inline_max is None else inline_max
    _audit(actor=actor, filters=filters, fmt=fmt, rows=rows, how=how, door_rows=door_rows)
    if actor is not None and rows + (door_rows or 0) > limit:
        export = ReportExport.objects.create(
            chain=chain,
            requested_by=actor,
            filters=filters.as_dict(),
            file_format=fmt,
            rows_total=rows,
            expires_at=timezone.now() + timedelta(hours=settings.JUSTFACE_REPORT_FILE_HOURS),
        )
        from django_q.tasks import async_task  # the task payload is the export's id only

        transaction.on_commit(lambda: async_task("access.reports.build_export", str(export.pk)))
        return Report(filters, fmt, rows, file_name(filters, fmt), export=export)
    header = header_lines(
        chain=chain, filters=filters, actor_label=actor_label(actor), rows=rows, at=timezone.now(), door_rows=door_rows
    )
    if fmt == "csv":
        return Report(
            filters,
            fmt,
            rows,
            file_name(filters, fmt),
            chunks=csv_chunks(header=header, queryset=queryset, chain_id=chain.pk, door_events=door_qs),
            header=header,
        )
    return Report(
        filters,
        fmt,
        rows,
        file_name(filters, fmt),
        content=xlsx_bytes(header=header, queryset=queryset, chain_id=chain.pk, door_events=door_qs),
        header=header,
    )


def build_export(export_id: str) -> str:
    """The django-q task: write the export's file, with progress, as its requester's scope sees it."""
    from justface.tenancy import scope_for

    if (
        ReportExport.objects.filter(pk=export_id, status=ReportExport.Status.QUEUED).update(
            status=ReportExport.Status.RUNNING
        )
        != 1
    ):
        return "not queued"  # claimed by another worker, or gone
    export = ReportExport.objects.select_related("chain", "requested_by").get(pk=export_id)
    try:
        filters = ReportFilters.from_dict(export.filters)
        scope = scope_for(export.requested_by)
        queryset = events(scope=scope, filters=filters)
        door_qs = door_reports.door_events(scope=scope, filters=filters)
        header = header_lines(
            chain=export.chain,
            filters=filters,
            actor_label=actor_label(export.requested_by),
            rows=export.rows_total,
            at=export.created_at,
            door_rows=None if door_qs is None else door_qs.count(),
        )

        def progress(n: int) -> None:
            ReportExport.objects.filter(pk=export.pk).update(rows_done=n)

        if export.file_format == "csv":
            content = "".join(
                csv_chunks(
                    header=header, queryset=queryset, chain_id=export.chain_id, progress=progress, door_events=door_qs
                )
            ).encode("utf-8")
        else:
            content = xlsx_bytes(
                header=header, queryset=queryset, chain_id=export.chain_id, progress=progress, door_events=door_qs
            )
        name = private_files.save("report", content)
    except Exception:
        ReportExport.objects.filter(pk=export.pk).update(status=ReportExport.Status.FAILED)
        raise
    ReportExport.objects.filter(pk=export.pk).update(
        status=ReportExport.Status.READY, file_name=name, rows_done=export.rows_total
    )
    return "ready"


def take_export_file(*, export_id, user) -> tuple[ReportExport, bytes] | None:
    """The export's content, once, for its requester, before it expires; the file is erased as it
    is handed over. None when it is not (or no longer) theirs to take."""
    now = timezone.now()
    with transaction.atomic():
        won = ReportExport.objects.filter(
            pk=export_id, requested_by=user, status=ReportExport.Status.READY, expires_at__gt=now
        ).update(status=ReportExport.Status.DOWNLOADED, downloaded_at=now)
        if won != 1:
            return None
        export = ReportExport.objects.get(pk=export_id)
        content = private_files.read(export.file_name)
        ReportExport.objects.filter(pk=export.pk).update(file_name="")
        private_files.delete_on_commit([export.file_name])
    audit.record(
        action="access.report_download",
        actor=user,
        obj=export,
        chain_id=export.chain_id,
        reason=f"rows={export.rows_total}",
    )
    return export, content


def erase_expired_exports(*, at: datetime) -> int:
    """Files nobody downloaded in time (and rows older than a week) go; run by retention's purge."""
    expired = list(
        ReportExport.objects.filter(expires_at__lte=at)
        .exclude(status__in=[ReportExport.Status.DOWNLOADED, ReportExport.Status.EXPIRED])
        .values_list("pk", "file_name")
    )
    for pk, name in expired:
        private_files.delete(name)
        ReportExport.objects.filter(pk=pk).update(status=ReportExport.Status.EXPIRED, file_name="")
    ReportExport.objects.filter(created_at__lt=at - timedelta(days=7)).delete()
    return len(expired)

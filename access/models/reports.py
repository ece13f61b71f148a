"""Report exports and the anonymous hourly statistics."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Centre, Chain


class ReportExport(models.Model):
    """A large access report built in the background (access.reports.build_export). Its file is
    encrypted (justface.private_files), downloadable once by its requester before expires_at,
    then erased; rows past their expiry are erased by the retention job."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being written")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded (file erased)")
        EXPIRED = "expired", _("Expired (file erased)")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="report_exports")
    requested_by = models.ForeignKey(
        "justface.User", verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="report_exports"
    )
    # The report's filters as ids and codes (access.reports.ReportFilters.as_dict): no names.
    filters = models.JSONField(_("filters"), default=dict)
    file_format = models.CharField(_("file format"), max_length=4)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows total"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    file_name = models.CharField(_("file name"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    downloaded_at = models.DateTimeField(_("downloaded at"), null=True, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name_plural = _("access report files")
        ordering = ["-created_at"]
        verbose_name = _("access report file")

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)


class HourlyStat(models.Model):
    """Anonymous counts per centre and hour: no member id, so they outlive every erasure.
    Written in the access event's transaction (access.stats.count_event) and, for hours a
    centre had people inside but no event, by the hourly job (access.stats.sample_hour_starts)."""

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.CASCADE, related_name="hourly_stats")
    hour = models.DateTimeField(_("hour"), help_text=_("Start of the hour (UTC)."))
    check_ins = models.PositiveIntegerField(_("check-ins"), default=0)
    check_outs = models.PositiveIntegerField(_("check-outs"), default=0)
    denied = models.PositiveIntegerField(_("denied"), default=0)
    peak_inside = models.PositiveIntegerField(_("peak inside"), default=0)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        verbose_name_plural = _("hourly statistics")
        ordering = ["centre", "hour"]
        verbose_name = _("hourly statistic")
        constraints = [models.UniqueConstraint(fields=["centre", "hour"], name="hourly_stat_one_row_per_hour")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.hour:%Y-%m-%d %H}h"

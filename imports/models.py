"""An import of a file of members (CSV or XLSX), run by the background worker."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Chain


class ImportJob(models.Model):
    """One uploaded file and what its rows did. The file is kept encrypted
    (justface.private_files) only until the run ends; the counts and the first rows of each
    outcome (line, member id, message) stay JUSTFACE_IMPORT_KEEP_DAYS."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    SAMPLE_ROWS = 10  # rows kept per outcome for the page

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    original_name = models.CharField(_("file"), max_length=200, blank=True)
    stored_file = models.CharField(_("stored file"), max_length=200, blank=True, editable=False)
    dry_run = models.BooleanField(
        _("dry run"), default=True, help_text=_("Show what the file would change, and change nothing.")
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    failure = models.CharField(_("why it failed"), max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    # {"created": [{"line": 2, "external_id": "A-1", ...}], "error": [...]}: the first SAMPLE_ROWS of each.
    samples = models.JSONField(_("first rows"), default=dict, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from justface.display import when

        kind = _("Dry run") if self.dry_run else _("Import")
        return f"{kind} {when(self.created_at)}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    def status(self) -> dict:
        """What the page's progress bar polls (counts only)."""
        return {
            "state": self.state,
            "state_label": str(self.get_state_display()),
            "percent": self.percent,
            "total": self.total_rows,
            "processed": self.processed_rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "failure": self.failure,
            "finished": self.state in (self.State.DONE, self.State.FAILED),
        }

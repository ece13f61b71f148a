"""Erasure work: each due erasure is a row that exactly one worker claims (compare-and-set)."""
from django.db import models

from members.models import Chain, DataSubjectRequest


class ErasureJob(models.Model):
    class Kind(models.TextChoices):
        DOOR_PHOTO = "door_photo", "Door photo"
        BIOMETRICS = "biometrics", "Face template and photos"
        MEMBER = "member", "Whole member record"
        EXCLUSION = "exclusion", "Ended exclusion"

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="erasure_jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Ids only: a job names what to erase, never what it holds.
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    due_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["done_at", "due_at"])]
        constraints = [
            # Planning runs every minute: one open job per thing to erase, however often it runs.
            models.UniqueConstraint(fields=["kind", "subject_type", "subject_id"], condition=models.Q(done_at=None),
                                    name="erasure_job_open_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} erasure due {self.due_at:%Y-%m-%d %H:%M}"


class ErasureRequest(DataSubjectRequest):
    """The open erasure requests of the data-subject queue, seen from retention, which is the
    layer that can carry them out (members may not import what an erasure touches)."""

    class Meta:
        proxy = True
        verbose_name = "erasure request to carry out"
        verbose_name_plural = "erasure requests to carry out"

"""Erasure work: each due erasure is a row that exactly one worker claims (compare-and-set)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Chain


class ErasureJob(models.Model):
    class Kind(models.TextChoices):
        DOOR_PHOTO = "door_photo", _("Door photo")
        BIOMETRICS = "biometrics", _("Face template and photos")
        MEMBER = "member", _("Whole member record")
        EXCLUSION = "exclusion", _("Ended exclusion")
        PIN = "pin", _("Door PIN hash")
        MARKETING = "marketing", _("Marketing consent")

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="erasure_jobs")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Ids only: a job names what to erase, never what it holds.
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.CharField(_("subject id"), max_length=64)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        verbose_name = _("erasure job")
        verbose_name_plural = _("erasure jobs")
        ordering = ["due_at"]
        indexes = [models.Index(fields=["done_at", "due_at"])]
        constraints = [
            # Planning runs every minute: one open job per thing to erase, however often it runs.
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=models.Q(done_at=None),
                name="erasure_job_open_once",
            ),
        ]

    def __str__(self) -> str:
        from justface.display import when

        return _("%(kind)s: erasure due %(when)s") % {"kind": self.get_kind_display(), "when": when(self.due_at)}


class Processor(models.Model):
    """A recipient or processor the chain names in its processing register (hosting, e-mail
    provider, ...). A transfer outside the EU/EEA is declared here, with its safeguard."""

    chain = models.ForeignKey(Chain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="processors")
    name = models.CharField(_("name"), max_length=200)
    service = models.CharField(
        _("what they do"), max_length=200, help_text=_("E.g. hosting, e-mail delivery, backups.")
    )
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO code of where the data is processed, e.g. DK, DE, IE.")
    )
    outside_eu = models.BooleanField(_("outside the EU/EEA"), default=False)
    safeguard = models.CharField(
        _("transfer safeguard"),
        max_length=200,
        blank=True,
        help_text=_("For a transfer outside the EU/EEA: adequacy decision, standard contractual clauses, ..."),
    )
    agreement_signed_on = models.DateField(_("data processing agreement signed on"), null=True, blank=True)

    tenancy_chain_path = "chain"
    tenancy_centre_path = None

    class Meta:
        ordering = ["name"]
        verbose_name = _("processor or recipient")
        verbose_name_plural = _("processors and recipients")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.outside_eu and not self.safeguard.strip():
            raise ValidationError({"safeguard": _("A transfer outside the EU/EEA needs its safeguard.")})

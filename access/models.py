"""Doors, the tablets that guard them, and the access events they produce."""
from django.db import models

from members.models import Centre, Member


class Door(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="doors")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        ordering = ["centre", "name"]
        constraints = [models.UniqueConstraint(fields=["centre", "name"], name="door_name_unique_per_centre")]

    def __str__(self) -> str:
        return f"{self.centre} – {self.name}"


class DeviceToken(models.Model):
    """A door tablet's credential: only a hash of the token is stored; revocation is immediate."""

    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    tenancy_chain_path = "door__centre__chain"
    tenancy_centre_path = "door__centre"

    def __str__(self) -> str:
        return f"Device token #{self.pk} for {self.door}"


class AccessEvent(models.Model):
    class Method(models.TextChoices):
        FACE = "face", "Face"
        PIN = "pin", "PIN"

    class Direction(models.TextChoices):
        IN = "in", "In"
        OUT = "out", "Out"

    class Decision(models.TextChoices):
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="access_events")
    door = models.ForeignKey(Door, on_delete=models.SET_NULL, null=True, blank=True, related_name="access_events")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="access_events")
    method = models.CharField(max_length=8, choices=Method.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.IN)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=32)
    score = models.FloatField(null=True, blank=True)
    margin = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    tenancy_chain_path = "centre__chain"
    tenancy_centre_path = "centre"

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.reason}) at {self.at:%Y-%m-%d %H:%M}"

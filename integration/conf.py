"""The integration API's settings (environment variables, README's settings table), with their defaults."""

from django.conf import settings


def event_days() -> int:
    """Days an event stays in the events feed (JUSTFACE_INTEGRATION_EVENT_DAYS)."""
    return getattr(settings, "JUSTFACE_INTEGRATION_EVENT_DAYS", 30)


def idempotency_hours() -> int:
    """Hours a bulk request's answer is kept for a retry with the same Idempotency-Key."""
    return getattr(settings, "JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS", 24)


def rate() -> str:
    """Requests per key (DRF rate syntax), JUSTFACE_INTEGRATION_RATE."""
    return getattr(settings, "JUSTFACE_INTEGRATION_RATE", "600/min")

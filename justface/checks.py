"""System checks for a deployment on several machines (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

_PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")


@register(Tags.security, deploy=True)
def shared_cache_with_shared_queue(app_configs, **kwargs):
    """A Redis broker means web and worker processes on several machines; the login limiter's
    counts (justface.throttle) must then be shared too, or every process counts on its own and a
    guesser gets the limit once per process."""
    if "redis" in settings.Q_CLUSTER and settings.CACHES["default"]["BACKEND"] in _PER_PROCESS_CACHES:
        return [
            Warning(
                "JUSTFACE_Q_BROKER_URL is set (several machines) but CACHE_URL is a per-process cache: login and "
                "password-reset limits count per process.",
                hint="Set CACHE_URL to the shared Redis, e.g. redis://10.0.1.21:6379/1 (docs/operations.md).",
                id="justface.W001",
            )
        ]
    return []

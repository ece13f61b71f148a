"""A new bearer token for Prometheus (docs/operations.md, "Metrics"): shown once; only its SHA-256
goes into the settings (JUSTFACE_METRICS_TOKEN_SHA256), so the settings file does not hold it."""

import secrets

from django.core.management.base import BaseCommand

from monitoring.access import token_sha256


class Command(BaseCommand):
    help = "Make a bearer token for scraping /metrics; prints it once with the hash to put in the settings."

    def handle(self, *args, **options):
        raw = secrets.token_urlsafe(32)
        self.stdout.write(f"Token (Prometheus's bearer_token; shown once, stored nowhere): {raw}")
        self.stdout.write(f"JUSTFACE_METRICS_TOKEN_SHA256={token_sha256(raw)}")

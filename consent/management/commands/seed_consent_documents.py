"""Publish version 1 of a chain's consent documents (terms, face scan, marketing) in Danish,
Norwegian and English, where the chain has none of that kind and language yet. Safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from consent.demo_documents import DOCUMENTS
from consent.models import ConsentDocument
from members.management.chains import chain_named


class Command(BaseCommand):
    help = "Give a chain the demo consent documents in da, nb and en (only those it lacks)."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="The chain's slug.")

    @transaction.atomic
    def handle(self, *args, chain: str, **options):
        found = chain_named(chain)
        added = 0
        for (kind, language), (title, body) in DOCUMENTS.items():
            if not ConsentDocument.objects.filter(chain=found, kind=kind, language=language).exists():
                ConsentDocument.objects.create(
                    chain=found,
                    kind=kind,
                    language=language,
                    version=1,
                    title=title,
                    body=body,
                    published_at=timezone.now(),
                )
                added += 1
        self.stdout.write(f"Consent documents for '{found.name}': {added} published.")

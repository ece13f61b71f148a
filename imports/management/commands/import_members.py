"""Import a CSV or XLSX file of members into a chain (docs/import.md):

    manage.py import_members members.xlsx --chain demo [--dry-run]

Every row goes through the integration API's member upsert; a progress bar on stderr, the counts
and the first rows of each outcome on stdout. A file that cannot be read stops with one line
(exit status 1) before anything is written; rows with errors are listed and the others imported."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports import files, services
from members.management.chains import chain_named


class Command(BaseCommand):
    help = "Import members from a CSV or XLSX file (columns as in the template, docs/import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument("--chain", required=True, help="The chain's slug.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change, and change nothing.")

    def handle(self, *args, file: str, chain: str, dry_run: bool, **options):
        target = chain_named(chain)
        try:
            content = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        try:
            services.check_file(content)
            total = files.count_rows(content)  # a broken file fails here, before any write
            desc = "dry run" if dry_run else "importing"
            with tqdm(total=total, desc=desc, unit="row", file=self.stderr._out, disable=None) as bar:
                tally = services.import_file(
                    chain=target,
                    content=content,
                    actor=None,
                    dry_run=dry_run,
                    how="import_members",
                    progress=bar.update,
                )
        except files.BadFile as error:
            raise CommandError(str(error)) from None
        except services.ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        counts = tally.counts
        self.stdout.write(
            f"{'Dry run (nothing written): ' if dry_run else ''}{tally.rows} rows: {counts['created']} created, "
            f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['error']} errors."
        )
        for kind in ("error", "created", "updated"):
            for sample in tally.samples[kind]:
                detail = sample.get("message") or ", ".join(sample.get("changed", []))
                where = f" [{sample['field']}]" if sample.get("field") else ""
                self.stdout.write(f"  line {sample['line']}: {kind} {sample['external_id']}{where} {detail}".rstrip())

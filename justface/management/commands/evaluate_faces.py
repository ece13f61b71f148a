"""Accuracy of the configured face model and decision rule on a labelled folder of photos."""
import json

from django.core.management.base import BaseCommand, CommandError

from justface.face.convert import ModelError
from justface.face.evaluate import evaluate_folder, format_report
from justface.face_runtime import get_engine


class Command(BaseCommand):
    help = ("Evaluate face matching on FOLDER (one sub-folder of photos per identity): genuine/impostor "
            "scores, ROC AUC, FNMR at FMR 1e-2/1e-3/1e-4, 1:N rank-1 with the margin rule.")

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")
        parser.add_argument("--enroll", type=int, default=1, help="enrollment photos per identity (default 1)")

    def handle(self, folder, as_json: bool = False, enroll: int = 1, **options):
        if enroll < 1:
            raise CommandError("--enroll must be at least 1.")
        try:
            report = evaluate_folder(folder, get_engine(), enroll=enroll)
        except (FileNotFoundError, NotADirectoryError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        if report["identities"] < 2:
            raise CommandError(f"{folder} needs photos of at least two identities, in one sub-folder each.")
        self.stdout.write(json.dumps(report, indent=2) if as_json else format_report(report))


"""Liveness on a folder of presentation-attack images, at the configured threshold."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from justface import face_runtime
from justface.face import liveness_eval
from justface.face.convert import ModelError


def _thresholds() -> tuple[float, float]:
    from django.conf import settings

    from justface.face import liveness

    t, d = settings.FACE_LIVENESS_THRESHOLD, settings.FACE_LIVENESS_DOUBT
    return (liveness.THRESHOLD if t is None else t, liveness.DOUBT_BELOW if d is None else d)


class Command(BaseCommand):
    help = (
        "Evaluate liveness on FOLDER = {bona_fide,print,replay}/<subject>/*.jpg at the configured threshold "
        "(FACE_LIVENESS_THRESHOLD): BPCER of bona fide faces, APCER of print and replay attacks (overall and per "
        "subject/video), and how many still bursts (each attack image moved as a hand-held print or phone "
        "moves) pass the head-turn challenge, and bursts cut from several photos of one person (two photos, "
        "slideshows; FOLDER's bona fide people and --photos folders). Rates are fractions of the images with a face."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object on stdout")
        parser.add_argument("--plot", metavar="PATH", help="write the score distributions per class (PNG)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the still bursts (default 0)")
        parser.add_argument("--no-bursts", action="store_true", help="skip the still bursts (faster)")
        parser.add_argument(
            "--photos",
            action="append",
            default=[],
            metavar="DIR",
            help="a folder of one sub-folder of photos per person (repeatable): its people with several photos "
            "also give two-photo and slideshow bursts (as FOLDER's bona fide people do)",
        )
        parser.add_argument("--scores", action="store_true", help="with --json: keep every score in the output")

    def handle(self, folder, as_json=False, plot=None, seed=0, no_bursts=False, scores=False, photos=(), **options):
        from tqdm import tqdm

        threshold, doubt = _thresholds()
        try:
            engine = face_runtime.get_engine()
            report = liveness_eval.evaluate_pad(
                engine,
                folder,
                threshold=threshold,
                doubt_below=doubt,
                seed=seed,
                bursts=not no_bursts,
                photos=photos,
                progress=lambda jobs: tqdm(jobs, desc="liveness", unit="image", file=sys.stderr),
            )
        except (FileNotFoundError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        if plot:
            from justface.face.plots import plot_score_distributions

            plot_score_distributions(
                plot,
                report["scores"],
                threshold=threshold,
                doubt_below=doubt,
                title=f"Passive liveness scores on {folder}",
            )
        if not scores:
            report.pop("scores")
        if as_json:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(liveness_eval.format_report(report))
            if plot:
                self.stdout.write(f"Score distributions: {plot}")

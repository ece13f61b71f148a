"""Liveness on folders of presentation-attack images, at the configured threshold, and the door
policy (refused / challenged / let in unchallenged), optionally with per-source calibration."""

import json
import sys
from pathlib import Path

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
        "Evaluate liveness on FOLDER... = {bona_fide,print,replay}/<subject>/*.jpg (with MANIFEST.tsv) at the "
        "configured threshold (FACE_LIVENESS_THRESHOLD): per folder BPCER of bona fide faces, APCER of print and "
        "replay attacks and how many still bursts pass the head-turn challenge; then the door policy over all "
        "folders: per class, source, subject and video the shares refused, challenged and let in unchallenged "
        "(Wilson 95%% intervals), at a new door (the default reference) and, with --calibrate-by-source, at doors "
        "calibrated to their camera (MANIFEST's source_repo; each reference from the source's other subjects' live "
        "frames); and what scoring bursts of --burst-size frames of one video changes. Bursts cut from several photos "
        "of one person (two photos, slideshows; each folder's bona fide people and --photos folders) must fail the "
        "challenge too."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="+")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object on stdout")
        parser.add_argument("--plot", metavar="PATH", help="write the score distributions per class (PNG)")
        parser.add_argument("--policy-plot", metavar="PATH", help="write the door policy's shares per class (PNG)")
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
        parser.add_argument(
            "--calibrate-by-source", action="store_true", help="also simulate per-door calibration by source"
        )
        parser.add_argument("--burst-size", type=int, default=3, help="frames per scored burst (default 3; 0: skip)")

    def handle(
        self,
        folder,
        as_json=False,
        plot=None,
        policy_plot=None,
        seed=0,
        no_bursts=False,
        scores=False,
        calibrate_by_source=False,
        burst_size=3,
        photos=(),
        **options,
    ):
        from tqdm import tqdm

        threshold, doubt = _thresholds()
        folders = list(folder)
        if len({Path(f).name for f in folders}) != len(folders):
            raise CommandError("Give folders with different names (each frame is named by its folder).")
        if burst_size < 0 or burst_size == 1:
            raise CommandError("--burst-size must be 0 (skip) or at least 2.")
        try:
            engine = face_runtime.get_engine()
            per_folder = {}
            for f in folders:
                per_folder[Path(f).name] = liveness_eval.evaluate_pad(
                    engine,
                    f,
                    threshold=threshold,
                    doubt_below=doubt,
                    seed=seed,
                    bursts=not no_bursts,
                    photos=photos,
                    progress=lambda jobs: tqdm(jobs, desc="liveness", unit="image", file=sys.stderr),
                )
            frames = liveness_eval.measure_frames(
                engine, folders, progress=lambda jobs: tqdm(jobs, desc="door policy", unit="image", file=sys.stderr)
            )
        except (FileNotFoundError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        policies = {"new door (default reference)": liveness_eval.evaluate_policy(frames, threshold=threshold)}
        if calibrate_by_source:
            policies["calibrated by source"] = liveness_eval.evaluate_policy(
                frames, threshold=threshold, calibrate_by_source=True
            )
        bursts = (
            liveness_eval.burst_gain(
                frames, size=burst_size, threshold=threshold, calibrate_by_source=calibrate_by_source
            )
            if burst_size
            else None
        )
        if plot:
            from justface.face.plots import plot_score_distributions

            merged: dict[str, list[float]] = {}
            for report in per_folder.values():
                for cls, values in report["scores"].items():
                    merged.setdefault(cls, []).extend(values)
            plot_score_distributions(
                plot,
                merged,
                threshold=threshold,
                doubt_below=doubt,
                title=f"Passive liveness scores on {', '.join(folders)}",
            )
        if policy_plot:
            from justface.face.plots import plot_policy

            plot_policy(policy_plot, policies, title=f"Door policy on {', '.join(folders)}")
        if not scores:
            for report in per_folder.values():
                report.pop("scores")
        if as_json:
            out = {"folders": per_folder, "policy": policies, "bursts": bursts}
            if len(folders) == 1:
                out.update(per_folder[Path(folders[0]).name])  # the single-folder report at the top, as before
            self.stdout.write(json.dumps(out))
            return
        for name, report in per_folder.items():
            self.stdout.write(f"== {name}")
            self.stdout.write(liveness_eval.format_report(report))
        for report in policies.values():
            self.stdout.write(liveness_eval.format_policy(report))
        if bursts:
            self.stdout.write(liveness_eval.format_bursts(bursts))
        if plot:
            self.stdout.write(f"Score distributions: {plot}")
        if policy_plot:
            self.stdout.write(f"Door policy: {policy_plot}")

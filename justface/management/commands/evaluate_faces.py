"""Accuracy of the configured face model and decision rule on a labelled folder of photos."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from justface import face_runtime
from justface.face import openset
from justface.face.convert import ModelError
from justface.face.evaluate import evaluate, format_report, pair_scores, template_folder
from justface.face.recognizers import MODELS


class Command(BaseCommand):
    help = (
        "Evaluate face matching on FOLDER (one sub-folder of photos per identity): genuine/impostor "
        "scores, ROC AUC, FNMR at FMR 1e-2/1e-3/1e-4, 1:N rank-1 with the margin rule. "
        "--open-set adds a door with a gallery of members facing strangers, decided by the configured "
        "policy: people of FOLDER with more than K (--enroll) photos are members (their first K photos, by "
        "file name, enrolled; the rest are member probes); people with K or fewer, and everyone in "
        "--strangers FOLDER2, are strangers (all their photos are stranger probes). --gallery N keeps N "
        "members chosen at random (--seed) and makes the other eligible people strangers: with calib "
        "(1,000 people x 2 photos), --enroll 1 --gallery 500 gives 500 members (500 member probes) and "
        "500 strangers (1,000 stranger probes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")
        parser.add_argument(
            "--enroll", type=int, default=1, help="enrollment photos per identity (default 1); with --open-set: K"
        )
        parser.add_argument(
            "--open-set",
            action="store_true",
            dest="open_set",
            help="also measure a gallery of members facing strangers (JSON key open_set)",
        )
        parser.add_argument(
            "--strangers", metavar="FOLDER2", help="with --open-set: a folder of people who are never members"
        )
        parser.add_argument(
            "--gallery",
            type=int,
            metavar="N",
            help="with --open-set: at most N members, chosen at random; the rest are strangers",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the --gallery choice (default 0)")
        parser.add_argument(
            "--plot", metavar="PATH", help="write a DET picture (PNG): verification, and open-set with --open-set"
        )
        parser.add_argument(
            "--plot-scale",
            choices=("log", "normal"),
            default="log",
            help="DET axes: log-log (default) or normal deviate",
        )
        parser.add_argument(
            "--cache", metavar="PATH", help="npz file of templates: reused when the photo list and the model match"
        )
        parser.add_argument(
            "--model",
            choices=MODELS,
            help="face model to evaluate, with its calibrated policy (default: JUSTFACE_FACE_MODEL)",
        )

    def handle(
        self,
        folder,
        as_json=False,
        enroll=1,
        open_set=False,
        strangers=None,
        gallery=None,
        seed=0,
        plot=None,
        plot_scale="log",
        cache=None,
        model=None,
        **options,
    ):
        plots = self._check(folder, enroll, open_set, strangers, gallery, plot, cache)
        self.model = model
        try:
            config = face_runtime.engine_config(model)
            model_id = Path(config.model_path).name
            templated = self._templates(folder, model_id, cache)
            report = evaluate(templated.templates, config.policy, enroll)
            report["model"] = config.model
            report["failed_to_template"] = templated.failed
            if report["identities"] < 2:
                raise CommandError(f"{folder} needs photos of at least two identities, in one sub-folder each.")
            result = None
            if open_set:
                others = self._templates(strangers, model_id, cache) if strangers else None
                try:
                    result = open_set_figures(templated, others, config.policy, enroll, gallery, seed)
                except ValueError as exc:
                    raise CommandError(f"--open-set: {exc}.") from None
                report["open_set"] = result.report
        except (FileNotFoundError, NotADirectoryError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        if plot:
            self._plot(plots, plot, plot_scale, templated, report, result, model_id)
        text = json.dumps(report, indent=2) if as_json else format_report(report)
        if result is not None and not as_json:
            text += "\n" + openset.format_open_set(result.report)
        self.stdout.write(text)

    def _check(self, folder, enroll, open_set, strangers, gallery, plot, cache):
        """Bad input is refused before any photo is read (templating calib takes minutes)."""
        if enroll < 1:
            raise CommandError("--enroll must be at least 1.")
        if gallery is not None and gallery < 1:
            raise CommandError("--gallery must be at least 1.")
        if (strangers or gallery is not None) and not open_set:
            raise CommandError("--strangers and --gallery need --open-set.")
        if not Path(folder).is_dir():
            raise CommandError(f"{folder} is not a folder of identity sub-folders.")
        if strangers and not Path(strangers).is_dir():
            raise CommandError(f"--strangers: {strangers} is not a folder of identity sub-folders.")
        for option, path in (("--plot", plot), ("--cache", cache)):
            if path and not Path(path).resolve().parent.is_dir():
                raise CommandError(f"{option}: the folder of {path} does not exist.")
        if plot:
            try:
                from justface.face import plots
            except ImportError:
                raise CommandError(
                    "--plot needs matplotlib: pip install the version pinned in requirements.txt."
                ) from None
            return plots
        return None

    def _templates(self, folder, model_id, cache):
        templated = template_folder(folder, lambda: face_runtime.get_engine(self.model), cache=cache, model_id=model_id)
        if templated.from_cache:
            self.stderr.write(f"templates of {folder} read from {cache}")
        return templated

    def _plot(self, plots, path, scale, templated, report, result, model_id):
        policy = report["policy"]
        genuine, impostor = pair_scores(templated.templates)
        fmr = float((impostor >= policy["threshold"]).mean()) if len(impostor) else 0.0
        fnmr = float((genuine < policy["threshold"]).mean()) if len(genuine) else 0.0
        panels = [
            plots.Panel(
                f"Verification, every pair of photos ({model_id})",
                {"pairs": (genuine, impostor)},
                {f"threshold {policy['threshold']:.2f}: FMR {fmr:.2e}, FNMR {fnmr:.2%}": (fmr, fnmr)},
            )
        ]
        if result is not None:
            r = result.report
            x = r["strangers_accepted_rate"] or 0.0
            y = 1 - (r["members_accepted_rate"] or 0.0)
            panels.append(
                plots.Panel(
                    f"Open set: {r['gallery_size']} members, {r['stranger_probes']} stranger probes, "
                    f"margin {policy['margin']:.2f}",
                    {"threshold sweep": result.curve},
                    {
                        f"policy {policy['threshold']:.2f}/{policy['margin']:.2f}: strangers "
                        f"{r['strangers_accepted']}/{r['stranger_probes']}, members missed "
                        f"{r['member_probes'] - r['members_accepted']}/{r['member_probes']}": (x, y)
                    },
                    *plots.OPEN_SET_AXES,
                    plots.OPEN_SET_COUNTED,
                )
            )
        try:
            plots.plot_panels(path, panels, scale=scale)
        except OSError as exc:
            raise CommandError(f"--plot: cannot write {path}: {exc.strerror or exc}") from None
        self.stderr.write(f"DET picture written to {path}")


def open_set_figures(templated, others, policy, enroll, gallery, seed):
    result = openset.open_set(
        templated.templates,
        policy,
        enroll=enroll,
        gallery=gallery,
        strangers=others.templates if others else None,
        seed=seed,
        progress=None,
    )
    result.report["failed_to_template"] = templated.failed + (
        [f"(strangers) {f}" for f in others.failed] if others else []
    )
    return result

"""The face models side by side on a labelled folder (default ../shared/faces/calib): per-pair
verification and the open-set door, each model with its own calibrated policy, in one table
and one DET picture.

    python bench/model_compare.py [--folder DIR] [--gallery N] [--seeds K] [--cache PATH] [--plot PATH] [--json]

Open set, two protocols: `--gallery N` members (one enrollment photo each, chosen at random
per seed) against the other people's photos as strangers (evaluate_faces --open-set); and
leave-one-out at full size, where every person with two photos is a member enrolled with one
and probes with the other, and is a stranger to a gallery of everyone else (each photo takes
each role once: 2 x people member probes and as many stranger probes). Templates come from
the engine exactly as evaluate_faces makes them (cached with --cache).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from justface.face import openset, plots  # noqa: E402
from justface.face.config import EngineConfig  # noqa: E402
from justface.face.engine import get_engine  # noqa: E402
from justface.face.evaluate import (  # noqa: E402
    FMR_TARGETS,
    fnmr,
    pair_scores,
    template_folder,
    threshold_at_fmr,
    wilson_interval,
)
from justface.face.gallery import Match  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.recognizers import FACENET_CASIA, SFACE  # noqa: E402

MODELS = (SFACE, FACENET_CASIA)


def leave_one_out(templates: dict[str, np.ndarray], policy) -> dict:
    """Every two-photo person enrolled with one photo and probed with the other (both ways); as a
    stranger, the same probe against the gallery without them. The production decision."""
    people = [p for p, t in templates.items() if len(t) >= 2]
    counts = {
        "gallery_size": len(people),
        "member_probes": 0,
        "members_accepted": 0,
        "members_confirm": 0,
        "misidentified": 0,
        "stranger_probes": 0,
        "strangers_accepted": 0,
        "strangers_confirm": 0,
    }
    for enrolled, probed in ((0, 1), (1, 0)):
        gallery = np.stack([templates[p][enrolled] for p in people])
        scores = np.stack([templates[p][probed] for p in people]) @ gallery.T
        for own, row in enumerate(scores):
            for stranger in (False, True):
                r = row.copy()
                if stranger:
                    r[own] = -np.inf
                best, second = np.argsort(-r)[:2]
                searched = len(people) - stranger  # a stranger's own template is not in the gallery
                decision = policy.decide(Match(best, float(r[best]), second, float(r[second]), searched))
                if stranger:
                    counts["stranger_probes"] += 1
                    counts["strangers_accepted"] += decision.accepted
                    counts["strangers_confirm"] += decision.confirm
                else:
                    counts["member_probes"] += 1
                    counts["members_accepted"] += decision.accepted and decision.identity == own
                    counts["members_confirm"] += decision.confirm and decision.proposed == own
                    counts["misidentified"] += decision.accepted and decision.identity != own
    counts["members_accepted_ci95"] = wilson_interval(counts["members_accepted"], counts["member_probes"])
    counts["strangers_accepted_ci95"] = wilson_interval(counts["strangers_accepted"], counts["stranger_probes"])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=REPO.parent / "shared" / "faces" / "calib")
    parser.add_argument("--gallery", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="npz template cache (as evaluate_faces --cache)")
    parser.add_argument("--plot", type=Path, help="DET picture of both models (PNG)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.folder.is_dir():
        sys.exit(f"No face photos at {args.folder}: pass --folder.")
    models_dir = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    report, verification, open_curves = {}, {}, {}
    for model in MODELS:
        config = EngineConfig(model_path=str(install(models_dir, model)), model=model, onnx_dir=str(models_dir))
        folder = template_folder(
            args.folder,
            lambda: get_engine(config),
            cache=args.cache,
            model_id=Path(config.model_path).name,
            progress=True,
        )
        genuine, impostor = pair_scores(folder.templates)
        policy = config.policy
        runs = [openset.open_set(folder.templates, policy, gallery=args.gallery, seed=s) for s in range(args.seeds)]
        verification[model] = (genuine, impostor)
        open_curves[f"{model}, {args.gallery} members (seed 0)"] = runs[0].curve
        report[model] = {
            "policy": {"threshold": policy.threshold, "margin": policy.margin},
            "pairs": {"genuine": len(genuine), "impostor": len(impostor), "max_impostor": float(impostor.max())},
            "fnmr_at_fmr": {k: fnmr(genuine, threshold_at_fmr(impostor, f)) for k, f in FMR_TARGETS.items()},
            "thresholds_at_fmr": {k: threshold_at_fmr(impostor, f) for k, f in FMR_TARGETS.items()},
            "open_set": [
                {
                    k: r.report[k]
                    for k in (
                        "gallery_size",
                        "member_probes",
                        "members_accepted",
                        "members_confirm",
                        "misidentified",
                        "stranger_probes",
                        "strangers_accepted",
                        "strangers_confirm",
                        "members_accepted_ci95",
                        "strangers_accepted_ci95",
                    )
                }
                for r in runs
            ],
            "leave_one_out": leave_one_out(folder.templates, policy),
        }
    if args.plot:
        plots.plot_panels(
            args.plot,
            [
                plots.Panel(f"Verification, every pair of {args.folder.name} photos", verification),
                plots.Panel(
                    f"Open set: {args.gallery} members, the other people as strangers",
                    open_curves,
                    xlabel=plots.OPEN_SET_AXES[0],
                    ylabel=plots.OPEN_SET_AXES[1],
                    counted=plots.OPEN_SET_COUNTED,
                ),
            ],
        )
    if args.json:
        print(json.dumps(report))
        return
    for model, r in report.items():
        p = r["policy"]
        print(f"== {model}: threshold {p['threshold']:.2f}, margin {p['margin']:.2f}")
        print(
            f"  pairs: {r['pairs']['genuine']:,} genuine, {r['pairs']['impostor']:,} impostor "
            f"(highest impostor {r['pairs']['max_impostor']:.3f})"
        )
        print(
            "  FNMR at FMR "
            + ", ".join(
                f"{k}: {v:.2%} (threshold {r['thresholds_at_fmr'][k]:.3f})" for k, v in r["fnmr_at_fmr"].items()
            )
        )
        for run in r["open_set"] + [r["leave_one_out"]]:
            lo, hi = run["strangers_accepted_ci95"]
            mlo, mhi = run["members_accepted_ci95"]
            print(
                f"  gallery {run['gallery_size']}: members accepted {run['members_accepted']}/{run['member_probes']} "
                f"({run['members_accepted'] / run['member_probes']:.1%}, CI {mlo:.1%}-{mhi:.1%}), to PIN confirm "
                f"{run['members_confirm']}, misidentified {run['misidentified']}, strangers accepted "
                f"{run['strangers_accepted']}/{run['stranger_probes']} (CI {lo:.2%}-{hi:.2%}), to PIN confirm "
                f"{run['strangers_confirm']}"
            )


if __name__ == "__main__":
    main()

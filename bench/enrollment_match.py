"""The 1:1 check of a replacement enrollment photo: the threshold per face model, measured.

    python bench/enrollment_match.py [--calib DIR] [--dev DIR] [--models sface,facenet-casia]
                                     [--fmr 0.001] [--json]

A member who already has templates and sends a new photo: the new photo's enrollment template
(mirror-averaged, exactly as FaceEngine.analyse_enrollment makes it, after the enrollment gate)
is compared with each of the member's templates of the model, and replaces them only if the
best score reaches the model's threshold (justface.face.config.ENROLLMENT_MATCH); otherwise
staff review it. A stranger therefore gets one chance per kept template (up to
FACE_TEMPLATES_PER_MEMBER, 3): the threshold is set where the per-pair false-match rate is at
most ``--fmr`` / 3, so that a stranger's photo passes against a member with the full three
templates at most ``--fmr`` of the time.

Calibration on ../shared/faces/calib (1,000 people, two photos each): genuine scores are the two
photos of each person, impostor scores every pair of photos of different people. Reported at
the threshold (rounded up to 0.01, the value kept in config): FNMR (a member's own new photo
sent to staff) with a Wilson 95% interval, the per-pair FMR, and the rule as it runs against a
member with two templates (both calib photos; the best of two against every other person's
photo). The check on ../shared/faces/dev (15 people, 10-11 photos each): members enrolled
with their first three photos, their other photos as genuine replacements, every other
person's photos as strangers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from justface.face.config import ENROLLMENT_MATCH, EngineConfig  # noqa: E402
from justface.face.engine import get_engine  # noqa: E402
from justface.face.evaluate import image_files, pair_scores, threshold_at_fmr, wilson_interval  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.recognizers import FACENET_CASIA, SFACE  # noqa: E402

TEMPLATES_PER_MEMBER = 3  # settings.FACE_TEMPLATES_PER_MEMBER's default


def enrollment_templates(folder: Path, engine) -> tuple[dict[str, np.ndarray], Counter]:
    """{identity: (k, d)} enrollment templates of every photo the enrollment gate accepts (no
    liveness check: calib's photos are scans of press photos), and the gate's refusals by reason."""
    templates: dict[str, np.ndarray] = {}
    refused: Counter = Counter()
    for identity, paths in image_files(folder).items():
        rows = []
        for path in paths:
            result = engine.analyse_enrollment(path.read_bytes())
            if result.ok:
                rows.append(result.template)
            else:
                refused[str(result.reason)] += 1
        if rows:
            templates[identity] = np.stack(rows).astype(np.float32)
    return templates, refused


def rate(count: int, trials: int) -> dict:
    return {"count": int(count), "trials": int(trials), "rate": count / trials if trials else None,
            "ci95": wilson_interval(int(count), int(trials))}  # fmt: skip


def best_of_members(templates: dict[str, np.ndarray], enrolled: int, threshold: float) -> dict:
    """Members enrolled with their first ``enrolled`` photos; the best score of a probe over a
    member's templates decides. Genuine: each member's other photos; strangers: every photo of
    every other person (all of them, for a member with fewer photos than ``enrolled`` + 1)."""
    people = [p for p, t in templates.items() if len(t) >= enrolled]
    genuine_pass = genuine = stranger_pass = strangers = 0
    for person in people:
        own = templates[person][:enrolled]
        others = [templates[p] for p in templates if p != person]
        probes = np.concatenate(others) if others else np.empty((0, own.shape[1]), np.float32)
        best = (probes @ own.T).max(axis=1)
        stranger_pass += int((best >= threshold).sum())
        strangers += len(best)
        rest = templates[person][enrolled:]
        if len(rest):
            mine = (rest @ own.T).max(axis=1)
            genuine_pass += int((mine >= threshold).sum())
            genuine += len(mine)
    return {
        "members": len(people),
        "templates_per_member": enrolled,
        "own_photos_to_staff": rate(genuine - genuine_pass, genuine),
        "strangers_accepted": rate(stranger_pass, strangers),
    }


def calibrate(templates: dict[str, np.ndarray], fmr: float) -> dict:
    genuine, impostor = pair_scores(templates)
    per_pair = fmr / TEMPLATES_PER_MEMBER
    exact = threshold_at_fmr(impostor, per_pair)
    threshold = math.ceil(exact * 100 - 1e-9) / 100  # the value kept in config
    return {
        "pairs": {"genuine": len(genuine), "impostor": len(impostor)},
        "max_impostor": float(impostor.max()),
        "target_fmr_per_member": fmr,
        "target_fmr_per_pair": per_pair,
        "threshold_exact": exact,
        "threshold": threshold,
        **figures(genuine, impostor, templates, threshold),
    }


def figures(genuine: np.ndarray, impostor: np.ndarray, templates: dict[str, np.ndarray], threshold: float) -> dict:
    return {
        "fnmr": rate(int((genuine < threshold).sum()), len(genuine)),
        "fmr_per_pair": rate(int((impostor >= threshold).sum()), len(impostor)),
        "member_with_two_templates": best_of_members(templates, 2, threshold),
    }


def check_dev(templates: dict[str, np.ndarray], threshold: float) -> dict:
    genuine, impostor = pair_scores(templates)
    return {
        "pairs": {"genuine": len(genuine), "impostor": len(impostor)},
        "max_impostor": float(impostor.max()),
        "fnmr_pairs": rate(int((genuine < threshold).sum()), len(genuine)),
        "fmr_pairs": rate(int((impostor >= threshold).sum()), len(impostor)),
        "member_with_one_template": best_of_members(templates, 1, threshold),
        "member_with_three_templates": best_of_members(templates, 3, threshold),
    }


def pct(r: dict) -> str:
    if r["rate"] is None:
        return "n/a"
    lo, hi = r["ci95"]
    return f"{100 * r['rate']:.3g}% ({r['count']}/{r['trials']}, 95% CI {100 * lo:.3g}-{100 * hi:.3g}%)"


def print_report(report: dict) -> None:
    for model, r in report["models"].items():
        c, d = r["calib"], r["dev"]
        print(f"== {model}")
        print(f"  gate refused: calib {dict(r['calib_refused']) or 0}, dev {dict(r['dev_refused']) or 0}")
        print(f"  calib pairs: {c['pairs']['genuine']} genuine, {c['pairs']['impostor']} impostor; "
              f"highest impostor {c['max_impostor']:.3f}")  # fmt: skip
        print(f"  threshold at per-pair FMR {c['target_fmr_per_pair']:.2e}: {c['threshold_exact']:.4f} "
              f"-> {c['threshold']:.2f} (configured: {r['configured']})")  # fmt: skip
        print(f"  calib FNMR (own photo to staff): {pct(c['fnmr'])}")
        print(f"  calib FMR per pair: {pct(c['fmr_per_pair'])}")
        two = c["member_with_two_templates"]
        print(f"  calib, member with 2 templates: stranger's photo accepted {pct(two['strangers_accepted'])}")
        print(f"  dev at {c['threshold']:.2f}: pairs FNMR {pct(d['fnmr_pairs'])}; FMR {pct(d['fmr_pairs'])}; "
              f"highest impostor {d['max_impostor']:.3f}")  # fmt: skip
        for key in ("member_with_one_template", "member_with_three_templates"):
            m = d[key]
            print(f"  dev, {key.replace('_', ' ')}: own photo to staff {pct(m['own_photos_to_staff'])}; "
                  f"stranger accepted {pct(m['strangers_accepted'])}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calib", type=Path, default=REPO.parent / "shared" / "faces" / "calib")
    parser.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "faces" / "dev")
    parser.add_argument("--models", default=f"{SFACE},{FACENET_CASIA}")
    parser.add_argument("--fmr", type=float, default=1e-3, help="false-match rate per member (default 0.001)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for folder in (args.calib, args.dev):
        if not folder.is_dir():
            sys.exit(f"No face photos at {folder}: pass --calib / --dev.")
    models_dir = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    report = {"fmr_per_member": args.fmr, "templates_per_member": TEMPLATES_PER_MEMBER, "models": {}}
    for model in args.models.split(","):
        config = EngineConfig(model_path=str(install(models_dir, model)), model=model, onnx_dir=str(models_dir))
        engine = get_engine(config)
        calib, calib_refused = enrollment_templates(args.calib, engine)
        dev, dev_refused = enrollment_templates(args.dev, engine)
        measured = calibrate(calib, args.fmr)
        report["models"][model] = {
            "configured": ENROLLMENT_MATCH.get(model),
            "calib_photos_enrolled": int(sum(len(t) for t in calib.values())),
            "calib_refused": dict(calib_refused),
            "dev_refused": dict(dev_refused),
            "calib": measured,
            "dev": check_dev(dev, measured["threshold"]),
        }
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)


if __name__ == "__main__":
    main()

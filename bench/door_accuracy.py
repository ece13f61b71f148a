"""1:N accuracy at the door: members enrolled from photos, probed with door frames.

    python bench/door_accuracy.py [--json] [--folder DIR] [--model sface|facenet-casia]

Each labelled photo gives an enrollment template (as the member's selfie would) and, placed on a
640x480 canvas like face_bench's door frames, a door template through analyse_door_frame. Each
round enrolls k photos per person (rotating, as evaluate_faces does) and probes with the door
frames of the others; open-set, each person is then removed from the gallery in turn and their
probes must all be refused. Printed for k = 1 and 3 and thresholds around the model's default,
with its default margin. Enrollment templates are made as the engine makes them (mirror-averaged).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_bench import door_frame  # noqa: E402  (bench/ is on sys.path: this script's folder)

from justface.face.config import MODEL_POLICIES, EngineConfig  # noqa: E402
from justface.face.engine import FaceEngine, get_engine  # noqa: E402
from justface.face.evaluate import FMR_TARGETS, fnmr, image_files, score_stats, threshold_at_fmr  # noqa: E402
from justface.face.gallery import Gallery, MatchPolicy  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.recognizers import FACENET_CASIA, SFACE  # noqa: E402

STEPS = (-0.10, -0.05, 0.0, 0.05)  # thresholds around the model's default


def synthetic_burst(frame: Image.Image, n: int, seed: int) -> list[Image.Image]:
    """``n`` frames made from one: the first as is, the others shifted by up to 6 px, scaled by up to
    3%, 8% lighter or darker and JPEG-compressed again, as a person standing at the door moves a
    little between frames. Synthetic: real bursts differ more (pose, expression, blur)."""
    rng = np.random.default_rng(seed)
    out = [frame]
    for _ in range(n - 1):
        scale = 1 + rng.uniform(-0.03, 0.03)
        dx, dy = rng.integers(-6, 7, size=2)
        moved = frame.transform(frame.size, Image.AFFINE, (1 / scale, 0, dx, 0, 1 / scale, dy), Image.BILINEAR)
        moved = ImageEnhance.Brightness(moved).enhance(1 + rng.uniform(-0.08, 0.08))
        buffer = io.BytesIO()
        moved.save(buffer, "JPEG", quality=int(rng.integers(70, 91)))
        out.append(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return out


def templates(engine: FaceEngine, folder: Path, burst: int = 1) -> tuple[dict, dict, list[str]]:
    """{identity: [enrollment template or None]}, {identity: [door template or None]}, refusals."""
    enrolled: dict[str, list] = {}
    door: dict[str, list] = {}
    refused = []
    for identity, paths in image_files(folder).items():
        for n, path in enumerate(paths):
            crop = engine.photo_crop(path.read_bytes())
            enrolled.setdefault(identity, []).append(None if crop is None else engine.enrollment_template(crop))
            frame = door_frame(path)
            result = (
                engine.analyse_door_frame(frame)
                if burst == 1
                else engine.analyse_door_burst(synthetic_burst(frame, burst, seed=n))
            )
            door.setdefault(identity, []).append(result.template)
            if not result.ok:
                refused.append(f"{identity}/{path.name}: {result.reason}")
    return enrolled, door, refused


def rounds(enrolled: dict, door: dict, k: int, policy: MatchPolicy) -> dict:
    ids = [i for i in enrolled if len(enrolled[i]) > k]
    n_rounds = min(len(enrolled[i]) for i in ids)
    probes = accepted = confirmed = impostors = open_set = stranger_confirm = 0
    for r in range(n_rounds):
        gallery = Gallery()
        held_out = {}
        for identity in ids:
            chosen = [(r + j) % len(enrolled[identity]) for j in range(k)]
            rows = [enrolled[identity][c] for c in chosen if enrolled[identity][c] is not None]
            if rows:
                gallery.add_many([identity] * len(rows), np.stack(rows))
            held_out[identity] = [t for j, t in enumerate(door[identity]) if j not in chosen]
        for identity, probe_set in held_out.items():
            without = gallery.without(identity)
            for probe in probe_set:
                probes += 1
                if probe is None:  # refused by the engine: the member uses the PIN
                    continue
                decision = policy.decide(gallery.search(probe))
                accepted += decision.accepted and decision.identity == identity
                confirmed += decision.confirm and decision.proposed == identity
                impostors += decision.accepted and decision.identity != identity
                open_set += 1
                as_stranger = policy.decide(without.search(probe))
                impostors += as_stranger.accepted
                stranger_confirm += as_stranger.confirm
    return {
        "k": k,
        "threshold": policy.threshold,
        "margin": policy.margin,
        "probes": probes,
        "accepted_correct": accepted / probes,
        "confirm_correct": confirmed / probes,
        "impostors_accepted": impostors,
        "open_set_probes": open_set,
        "strangers_to_confirm": stranger_confirm,
    }


def cross_scores(enrolled: dict, door: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every enrollment photo against every door frame of another photo."""
    rows = [(i, j, t) for i, ts in enrolled.items() for j, t in enumerate(ts) if t is not None]
    probes = [(i, j, t) for i, ts in door.items() for j, t in enumerate(ts) if t is not None]
    scores = np.stack([t for *_, t in rows]) @ np.stack([t for *_, t in probes]).T
    same = np.array([[a == c for c, _, _ in probes] for a, _, _ in rows])
    same_photo = np.array([[(a, b) == (c, d) for c, d, _ in probes] for a, b, _ in rows])
    return scores[same & ~same_photo], scores[~same]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev")),
    )
    parser.add_argument(
        "--model", choices=(SFACE, FACENET_CASIA), default=SFACE, help="face model (default %(default)s)"
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=1,
        choices=(1, 2, 3),
        help="frames per door attempt, a synthetic burst made from each door frame (default 1)",
    )
    args = parser.parse_args()
    if not args.folder.is_dir():
        sys.exit(f"No face photos at {args.folder}: set JUSTFACE_FACE_DATA or pass --folder.")
    models_dir = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    engine = get_engine(
        EngineConfig(model_path=str(install(models_dir, args.model)), model=args.model, onnx_dir=str(models_dir))
    )
    default = MODEL_POLICIES[args.model]
    enrolled, door, refused = templates(engine, args.folder, args.burst)
    genuine, impostor = cross_scores(enrolled, door)
    thresholds = {name: threshold_at_fmr(impostor, fmr) for name, fmr in FMR_TARGETS.items()}
    report = {
        "door_frames_refused": refused,
        "genuine": score_stats(genuine),
        "impostor": score_stats(impostor),
        "fnmr_at_fmr": {name: fnmr(genuine, t) for name, t in thresholds.items()},
        "thresholds": thresholds,
        "model": args.model,
        "burst": args.burst,
        "identification": [
            rounds(enrolled, door, k, replace(default, threshold=round(default.threshold + step, 3)))
            for k in (1, 3)
            for step in STEPS
        ],
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"door frames refused by the engine: {len(refused)}")
    for line in refused:
        print(f"  {line}")
    for name in ("genuine", "impostor"):
        s = report[name]
        print(f"{name}: n={s['count']} mean={s['mean']:.3f} min={s['min']:.3f} max={s['max']:.3f}")
    for name, t in thresholds.items():
        print(f"FMR {name}: threshold {t:.3f}, FNMR {report['fnmr_at_fmr'][name]:.2%}")
    print("k  threshold  margin  accepted  + PIN confirm  impostors accepted (open-set probes)  strangers to confirm")
    for row in report["identification"]:
        print(
            f"{row['k']}  {row['threshold']:.2f}       {row['margin']:.2f}    {row['accepted_correct']:.1%}"
            f"     {row['accepted_correct'] + row['confirm_correct']:.1%}         {row['impostors_accepted']} / "
            f"{row['open_set_probes']}                          {row['strangers_to_confirm']}"
        )


if __name__ == "__main__":
    main()

"""MTCNN (the engine's detector) against YuNet: detection, landmarks, SFace accuracy
with each detector's landmarks, and speed on door frames.

    python bench/detector_compare.py [--folder DIR ...] [--json] [--score 0.9] [--threads 2]

Folders of labelled photos (one sub-folder per person): ``--folder`` (repeatable), else
JUSTFACE_FACE_DATA (one folder, or several joined by ``os.pathsep``), else ../shared/faces/dev
and ../shared/faces/calib beside the repo. Photos are read in place, never copied. Models come
from JUSTFACE_DATA_DIR/models (default <repo>/var/models), installed and verified if missing.

Per folder, on each photo: the face covering the image centre (FaceEngine.photo_crop's first
choice; its fallback, the largest face, would be a bystander here, so it counts as a failure),
found by each detector at full resolution (faces of 20 px and more);
the distance between the two detectors' landmarks over MTCNN's inter-ocular distance; SFace
templates from each detector's landmarks (sface.align), all pairs, FNMR at FMR 1e-3 and 1e-4 on
the photos both detectors found (the same pairs for both), with a 95% Wilson interval and the
genuine pairs one detector accepts and the other refuses. Speed: door frames (face_bench's
``door_frame``), MTCNN as the engine runs it (``detect(frame, 80, 320)``) and YuNet on the same
320 px copy and on the full 640x480 frame, calls interleaved so that the machine's drift hits
all three alike; face_bench's yardstick before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from face_bench import door_frames, reference_ms  # noqa: E402

from justface.face import sface, yunet  # noqa: E402
from justface.face.config import EngineConfig  # noqa: E402
from justface.face.detect import Detection  # noqa: E402
from justface.face.engine import get_engine  # noqa: E402
from justface.face.evaluate import fnmr, image_files, pair_scores, threshold_at_fmr  # noqa: E402
from justface.face.image import ImageError  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.recognizers import SFACE  # noqa: E402

FMRS = {"1e-3": 1e-3, "1e-4": 1e-4}
DETECTORS = ("mtcnn", "yunet")
PHOTO_MIN_FACE = 20  # as FaceEngine.photo_crop
SCORE_LEVELS = (0.5, 0.7, 0.8, 0.9)  # YuNet detection counts reported at these thresholds too


def folders_from(args: argparse.Namespace) -> list[Path]:
    if args.folder:
        return [Path(f) for f in args.folder]
    if os.environ.get("JUSTFACE_FACE_DATA"):
        return [Path(f) for f in os.environ["JUSTFACE_FACE_DATA"].split(os.pathsep) if f]
    shared = REPO.parent / "shared" / "faces"
    return [shared / "dev", shared / "calib"]


def central(faces: list[Detection], width: int, height: int) -> tuple[Detection | None, bool]:
    """photo_crop's choice (the face covering the image centre, else the largest) and whether
    it covers the centre."""
    cx, cy = width / 2, height / 2
    covering = [f for f in faces if f.box[0] <= cx <= f.box[2] and f.box[1] <= cy <= f.box[3]]
    if covering:
        return covering[0], True
    return (faces[0] if faces else None), False


def wilson(failures: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = failures / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def sign_test(a: int, b: int) -> float:
    """Two-sided exact sign test: how likely a split at least this uneven is between ``a`` and
    ``b`` discordant pairs if both detectors were equally good."""
    n, k = a + b, min(a, b)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def verify(templates: np.ndarray, labels: list[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """FNMR at the FMR targets for (N, 128) templates whose ``labels`` come grouped by identity
    (pair_scores' order), and which genuine pairs are accepted at each target's threshold."""
    by_id: dict[str, list[np.ndarray]] = {}
    for label, row in zip(labels, templates):
        by_id.setdefault(label, []).append(row)
    genuine, impostor = pair_scores({k: np.stack(v) for k, v in by_id.items()})
    res: dict = {"genuine_pairs": len(genuine), "impostor_pairs": len(impostor)}
    accepted = {}
    for key, target in FMRS.items():
        thr = threshold_at_fmr(impostor, target)
        misses = int((genuine < thr).sum())
        res[key] = {
            "threshold": thr,
            "fnmr": fnmr(genuine, thr),
            "refused": misses,
            "ci95": wilson(misses, len(genuine)),
        }
        accepted[key] = genuine >= thr
    return res, accepted


def verification(templates: dict[str, np.ndarray], labels: list[str]) -> dict:
    """verify() for each detector's templates of the same photos, plus the genuine pairs that
    one detector accepts and the other refuses (each at its own threshold): the paired view."""
    out: dict = {}
    accepted = {}
    for name, t in templates.items():
        out[name], accepted[name] = verify(t, labels)
    out["discordant"] = {
        key: {
            "only_mtcnn_accepts": int((accepted["mtcnn"][key] & ~accepted["yunet"][key]).sum()),
            "only_yunet_accepts": int((accepted["yunet"][key] & ~accepted["mtcnn"][key]).sum()),
        }
        for key in FMRS
    }
    for d in out["discordant"].values():
        d["sign_test_p"] = sign_test(d["only_mtcnn_accepts"], d["only_yunet_accepts"])
    return out


def compare_folder(folder: Path, engine, yn: yunet.YuNetDetector, score: float) -> dict:
    files = image_files(folder)
    labels: dict[str, list[str]] = {d: [] for d in DETECTORS}
    crops: dict[str, list[np.ndarray]] = {d: [] for d in DETECTORS}
    names: dict[str, list[str]] = {d: [] for d in DETECTORS}
    failed: dict[str, list[str]] = {d: [] for d in DETECTORS}
    off_centre = {d: 0 for d in DETECTORS}
    yunet_scores: list[float] = []  # YuNet's score of its central face at the lowest level
    agreement: list[np.ndarray] = []  # per photo: the 5 distances / inter-ocular distance
    worst: tuple[float, str] = (0.0, "")
    size_ratio: list[float] = []
    total = sum(len(p) for p in files.values())
    with tqdm(total=total, desc=folder.name, unit="photo", file=sys.stderr) as bar:
        for identity, paths in files.items():
            for path in paths:
                name = f"{identity}/{path.name}"
                bar.update()
                try:
                    img = engine._image(path.read_bytes())
                except ImageError:
                    for d in DETECTORS:
                        failed[d].append(name)
                    continue
                rgb = np.asarray(img)
                found = {
                    "mtcnn": engine.detector.detect(img, PHOTO_MIN_FACE, max(img.size)),
                    "yunet": yn.detect(img, PHOTO_MIN_FACE, max(img.size)),
                }
                low, covers = central(found["yunet"], img.width, img.height)
                yunet_scores.append(low.prob if low and covers else 0.0)
                found["yunet"] = [f for f in found["yunet"] if f.prob >= score]
                chosen = {}
                for d in DETECTORS:
                    face, covers = central(found[d], img.width, img.height)
                    if face is None or not covers:  # a bystander is not the labelled person
                        failed[d].append(name)
                        off_centre[d] += face is not None
                        continue
                    chosen[d] = face
                    labels[d].append(identity)
                    names[d].append(name)
                    crops[d].append(sface.align(rgb, np.asarray(face.landmarks)))
                if len(chosen) == 2:
                    m, y = (np.asarray(chosen[d].landmarks) for d in DETECTORS)
                    iod = float(np.linalg.norm(m[0] - m[1]))
                    dist = np.linalg.norm(m - y, axis=1) / iod
                    agreement.append(dist)
                    if dist.max() > worst[0]:
                        worst = (float(dist.max()), name)
                    size_ratio.append(chosen["yunet"].size / chosen["mtcnn"].size)
    templates = {}
    for d in tqdm(DETECTORS, desc=f"{folder.name}: SFace", file=sys.stderr):
        stacked = np.stack(crops[d])
        templates[d] = np.concatenate([engine.embed(stacked[s : s + 32]) for s in range(0, len(stacked), 32)])
    both = sorted(set(names["mtcnn"]) & set(names["yunet"]))
    index = {d: {n: i for i, n in enumerate(names[d])} for d in DETECTORS}
    common_labels = [n.split("/", 1)[0] for n in both]
    common = {d: templates[d][[index[d][n] for n in both]] for d in DETECTORS}
    own = {d: verify(templates[d], labels[d])[0] for d in DETECTORS}
    dists = np.stack(agreement) if agreement else np.zeros((0, 5))
    scores = np.asarray(yunet_scores)
    return {
        "folder": str(folder),
        "photos": total,
        "identities": len(files),
        "detected": {d: total - len(failed[d]) for d in DETECTORS},
        "failed": failed,
        "not_covering_centre": off_centre,
        "yunet_detected_at_score": {str(s): int((scores >= s).sum()) for s in SCORE_LEVELS},
        "yunet_central_score": {"median": float(np.median(scores)), "min": float(scores.min())},
        "landmarks": {
            "photos": len(dists),
            "mean": float(dists.mean()) if len(dists) else None,
            "max": float(dists.max()) if len(dists) else None,
            "per_point_mean": dists.mean(0).tolist() if len(dists) else None,
            "photos_over_0.25": int((dists.max(1) > 0.25).sum()),
            "worst_photo": worst[1],
        },
        "yunet_box_over_mtcnn_box": float(np.median(size_ratio)) if size_ratio else None,
        "verification_common": {"photos": len(both), **verification(common, common_labels)},
        "verification_own_detections": own,
    }


def speed(engine, yn: yunet.YuNetDetector, folder: Path, frames_n: int, runs: int) -> dict:
    frames = door_frames(folder, frames_n)
    methods = {
        "mtcnn_320": lambda f: engine.detector.detect(f, 80, 320),
        "yunet_320x240": lambda f: yn.detect(f, 80, 320),
        "yunet_640x480": lambda f: yn.detect(f, 80, 640),
    }
    found = {k: sum(bool(fn(f)) for f in frames) for k, fn in methods.items()}  # also the warm-up
    samples: dict[str, list[float]] = {k: [] for k in methods}
    for r in tqdm(range(runs), desc="door frames", unit="round", file=sys.stderr):
        frame = frames[r % len(frames)]
        order = list(methods.items())
        for k, fn in order[r % 3 :] + order[: r % 3]:  # rotate who goes first
            start = time.perf_counter()
            fn(frame)
            samples[k].append((time.perf_counter() - start) * 1000)
    return {
        "frames": len(frames),
        "frames_with_face": found,
        "ms": {k: {"median": float(np.median(v)), "p95": float(np.percentile(v, 95))} for k, v in samples.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", action="append", help="labelled photo folder (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--score",
        type=float,
        default=yunet.SCORE_THRESHOLD,
        help="YuNet score threshold (default %(default)s, OpenCV's)",
    )
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    parser.add_argument("--frames", type=int, default=30, help="door frames (default 30)")
    parser.add_argument("--runs", type=int, default=150, help="timed rounds of the three detectors (default 150)")
    args = parser.parse_args()

    folders = folders_from(args)
    for folder in folders:
        if not folder.is_dir():
            sys.exit(f"No face photos at {folder}: pass --folder or set JUSTFACE_FACE_DATA.")
    cv2.setNumThreads(args.threads)
    cv2.utils.logging.setLogLevel(
        cv2.utils.logging.LOG_LEVEL_ERROR
    )  # OpenCV 5's "targets are not supported by the new graph engine" warning
    models = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    engine = get_engine(EngineConfig(model_path=str(install(models, SFACE)), model=SFACE, num_threads=args.threads))
    # Built with the lowest reported score so that counts at higher scores come from one run;
    # the operating threshold --score is applied on top.
    yn_all = yunet.YuNetDetector(yunet.install(models), score_threshold=min(SCORE_LEVELS + (args.score,)))
    yn = yunet.YuNetDetector(yunet.install(models), score_threshold=args.score)

    report: dict = {
        "yunet_score_threshold": args.score,
        "threads": args.threads,
        "reference_ms": {"before": reference_ms()},
        "load_average_1min": {"before": os.getloadavg()[0]},
    }
    report["folders"] = [compare_folder(f, engine, yn_all, args.score) for f in folders]
    report["speed"] = speed(engine, yn, folders[0], args.frames, args.runs)
    report["reference_ms"]["after"] = reference_ms()
    report["load_average_1min"]["after"] = os.getloadavg()[0]
    report["versions"] = {"opencv": cv2.__version__}
    if args.json:
        print(json.dumps(report))
        return
    print(table(report))


def table(r: dict) -> str:
    lines = [
        f"YuNet score threshold {r['yunet_score_threshold']}, {r['threads']} threads, OpenCV {r['versions']['opencv']}"
    ]
    for f in r["folders"]:
        lines += ["", f"== {f['folder']}: {f['photos']} photos, {f['identities']} people"]
        lines.append(f"{'':34}{'MTCNN':>22}{'YuNet':>22}")
        lines.append(f"{'face covering the centre found':34}{f['detected']['mtcnn']:>22}{f['detected']['yunet']:>22}")
        lines.append(
            f"{'  failures with only another face':34}{f['not_covering_centre']['mtcnn']:>22}"
            f"{f['not_covering_centre']['yunet']:>22}"
        )
        v = f["verification_common"]
        for key in FMRS:
            cells = []
            for d in DETECTORS:
                x = v[d][key]
                cells.append(f"{x['fnmr']:.2%} [{x['ci95'][0]:.1%}-{x['ci95'][1]:.1%}]")
            lines.append(f"{'FNMR @FMR ' + key + ' (common photos)':34}{cells[0]:>22}{cells[1]:>22}")
        own = f["verification_own_detections"]
        for key in FMRS:
            lines.append(
                f"{'FNMR @FMR ' + key + ' (own detections)':34}"
                f"{own['mtcnn'][key]['fnmr']:>22.2%}{own['yunet'][key]['fnmr']:>22.2%}"
            )
        lines.append(
            f"  {v['photos']} photos found by both: {v['mtcnn']['genuine_pairs']} genuine / "
            f"{v['mtcnn']['impostor_pairs']} impostor pairs"
        )
        for key in FMRS:
            d = v["discordant"][key]
            lines.append(
                f"  genuine pairs at FMR {key}: only MTCNN accepts {d['only_mtcnn_accepts']}, "
                f"only YuNet accepts {d['only_yunet_accepts']} (sign test p = {d['sign_test_p']:.3f})"
            )
        lm = f["landmarks"]
        if lm["photos"]:
            lines.append(
                f"  landmarks, YuNet vs MTCNN / inter-ocular distance: mean {lm['mean']:.3f}, max {lm['max']:.3f} "
                f"(per point {', '.join(f'{p:.3f}' for p in lm['per_point_mean'])}; "
                f"{lm['photos_over_0.25']} photos over 0.25; worst {lm['worst_photo']})"
            )
        lines.append(
            f"  YuNet central face score: median {f['yunet_central_score']['median']:.3f}, "
            f"min {f['yunet_central_score']['min']:.3f}; found at score >= "
            + ", ".join(f"{k}: {n}" for k, n in f["yunet_detected_at_score"].items())
        )
        lines.append(f"  YuNet box / MTCNN box (shorter side, median): {f['yunet_box_over_mtcnn_box']:.2f}")
        for d in DETECTORS:
            if f["failed"][d]:
                lines.append(f"  {d} found no face covering the centre in: {', '.join(f['failed'][d])}")
    s = r["speed"]
    lines += ["", f"== speed, {s['frames']} door frames 640x480 (ms per frame; frames with a face of 80 px+)"]
    for k, t in s["ms"].items():
        lines.append(
            f"  {k:16} median {t['median']:6.1f}  p95 {t['p95']:6.1f}   ({s['frames_with_face'][k]}/{s['frames']})"
        )
    lines.append(
        f"machine yardstick: {r['reference_ms']['before']:.1f} ms before, {r['reference_ms']['after']:.1f} ms after; "
        f"load average {r['load_average_1min']['before']:.2f} / {r['load_average_1min']['after']:.2f}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

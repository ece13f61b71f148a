"""Evaluating liveness on a folder of presentation-attack images (plain library, no Django):
``{bona_fide,print,replay}/<subject>/*.jpg``.

At the door's detection settings each image's dominant face gets the passive score; rates are
fractions of the images with a face (``no_face`` counts the others): BPCER (bona fide refused)
and APCER (attacks accepted) at the threshold, overall and per subject (for replays: per video,
as the subjects of pad/dev are one video each). ``still_bursts`` runs the challenge check
(geometry and same face, without the passive layer, which would refuse most of them by itself)
on a burst made from each attack image (liveness.still_burst: shifts, rotation, scale, tilt and
brightness, as a hand-held print or phone moves) and counts how many pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from . import liveness

CLASSES = ("bona_fide", "print", "replay")
ATTACKS = ("print", "replay")
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def pad_files(folder: str | Path) -> dict[str, dict[str, list[Path]]]:
    """{class: {subject: sorted image paths}} for the classes present."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    out = {}
    for cls in CLASSES:
        if (root / cls).is_dir():
            out[cls] = {
                sub.name: sorted(p for p in sub.iterdir() if p.suffix.lower() in SUFFIXES)
                for sub in sorted((root / cls).iterdir())
                if sub.is_dir()
            }
    if not out:
        raise FileNotFoundError(f"{root} has none of {', '.join(CLASSES)}")
    return out


def load(path: Path) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def evaluate_pad(
    engine,
    folder: str | Path,
    *,
    threshold: float,
    doubt_below: float | None = None,
    seed: int = 0,
    bursts: bool = True,
    rules: liveness.ChallengeRules = liveness.ChallengeRules(),
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> dict:
    """The report (see the module's docstring); ``scores`` holds every score for plotting."""
    files = pad_files(folder)
    gate = engine.config.door
    rng = np.random.default_rng(seed)
    jobs = [
        (cls, subject, path) for cls, subjects in files.items() for subject, paths in subjects.items() for path in paths
    ]
    scores: dict[str, list[float]] = {cls: [] for cls in files}
    per_subject: dict[str, dict[str, list[float]]] = {cls: {} for cls in files}
    no_face: Counter = Counter()
    burst_why: Counter = Counter()
    burst_n = burst_passed = 0
    for cls, subject, path in progress(jobs):
        image = load(path)
        faces = engine.detector.detect(image, gate.min_face_px, gate.detect_max_side)
        if not faces:
            no_face[cls] += 1
            continue
        score = engine.passive.score(image, faces[0])
        scores[cls].append(score)
        per_subject[cls].setdefault(subject, []).append(score)
        if bursts and cls in ATTACKS:
            instruction = liveness.INSTRUCTIONS[int(rng.integers(2))]
            result = liveness.check_burst(engine, liveness.still_burst(image, rng), instruction, rules=rules)
            burst_n += 1
            burst_passed += result.ok
            burst_why[result.why] += 1
    classes = {}
    for cls in files:
        s = np.asarray(scores[cls])
        n = len(s)
        key = "bpcer" if cls == "bona_fide" else "apcer"
        rate = float(np.mean(s < threshold)) if cls == "bona_fide" else float(np.mean(s >= threshold))
        classes[cls] = {"n": n, "no_face": no_face[cls], key: rate if n else None}
        if doubt_below is not None and n:
            classes[cls]["in_doubt"] = float(np.mean((s >= threshold) & (s < doubt_below)))
            classes[cls]["above_doubt"] = float(np.mean(s >= doubt_below))
    report = {
        "threshold": threshold,
        "classes": classes,
        "still_bursts": {"n": burst_n, "passed": burst_passed, "why": dict(burst_why)},
        "doubt_below": doubt_below,
        "per_subject": {
            cls: {
                subject: {
                    "n": len(v),
                    ("bpcer" if cls == "bona_fide" else "apcer"): float(np.mean(np.asarray(v) < threshold))
                    if cls == "bona_fide"
                    else float(np.mean(np.asarray(v) >= threshold)),
                }
                for subject, v in subjects.items()
            }
            for cls, subjects in per_subject.items()
        },
        "scores": {cls: [round(float(x), 5) for x in v] for cls, v in scores.items()},
    }
    if "bona_fide" in scores and scores["bona_fide"]:
        report["threshold_for_bpcer_5pct"] = float(np.quantile(np.asarray(scores["bona_fide"]), 0.05))
    return report


def format_report(report: dict) -> str:
    lines = [
        f"Passive liveness at threshold {report['threshold']:.3f}"
        + (f" (in doubt below {report['doubt_below']:.2f})" if report.get("doubt_below") is not None else "")
    ]
    for cls, row in report["classes"].items():
        key = "bpcer" if cls == "bona_fide" else "apcer"
        rate = "-" if row[key] is None else f"{100 * row[key]:.1f}%"
        extra = f", in doubt {100 * row['in_doubt']:.1f}%" if "in_doubt" in row else ""
        lines.append(f"  {cls:<9} {row['n']:>5} with a face, {row['no_face']} without: {key.upper()} {rate}{extra}")
    for cls in ATTACKS:
        for subject, row in report["per_subject"].get(cls, {}).items():
            lines.append(f"    {cls} {subject}: APCER {100 * row['apcer']:.1f}% of {row['n']}")
    sb = report["still_bursts"]
    lines.append(
        f"Still bursts (challenge check on a moving still picture): {sb['passed']} of {sb['n']} passed"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(sb['why'].items()))})" if sb["why"] else "")
    )
    return "\n".join(lines)

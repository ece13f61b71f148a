"""The presentation-attack folder: passive scores, still bursts and bursts cut from photos, and
their report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .. import liveness

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


# --- bursts cut from several photos of one person ------------------------------------

PHOTO_BURST_KINDS = ("two_photo", "two_photo_jitter", "slideshow", "slideshow_by_yaw", "slideshow_by_yaw_jitter")
TWO_PHOTO_PATTERNS = ((0, 0, 1, 1), (0, 1, 1, 1), (0, 0, 0, 0, 1, 1, 1, 1), (0, 0, 1, 1, 1, 1, 1, 1))
BURST_FRAMES = 10  # as the kiosk sends (access.liveness.BURST_FRAMES)


def photo_people(folder: str | Path) -> dict[str, list[Path]]:
    """{person: sorted photo paths} of a folder with one sub-folder per person, those with 2+."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    people = {
        sub.name: sorted(p for p in sub.iterdir() if p.suffix.lower() in SUFFIXES)
        for sub in sorted(root.iterdir())
        if sub.is_dir()
    }
    return {name: paths for name, paths in people.items() if len(paths) >= 2}


def photo_attacks(
    photos: list[Image.Image], yaws: list[float], rng: np.random.Generator, per_kind: int = 4
) -> Iterable[tuple[str, str, list[Image.Image]]]:
    """(kind, instruction, frames) of bursts cut from one person's photos (liveness.photo_burst),
    ``per_kind`` of each kind, instructions alternating. ``yaws``: each photo's yaw (image
    orientation, as liveness.yaw), to play the attacker's best hand: start from the photo that
    faces the camera most, show the others turned the asked way (mirrored where they turn the
    other way), ordered by how far they turn.

    * two_photo: [P, P, T, T], [P, T, T, T], [P x4, T x4], [P x2, T x6]: T the most turned photo;
    * two_photo_jitter: the same, each frame moved as a hand-held picture (no exact repeats);
    * slideshow: 3, 4 or up to 8 random photos, random order, each mirrored at random, jittered;
    * slideshow_by_yaw: up to 4 or up to 10 photos, the frontal one first and the others by how far
      they turn the asked way, each shown for the same number of frames;
    * slideshow_by_yaw_jitter: the same, jittered."""
    n = len(photos)
    frontal = int(np.argmin(np.abs(yaws)))
    for kind in PHOTO_BURST_KINDS:
        for k in range(per_kind):
            instruction = liveness.INSTRUCTIONS[k % 2]
            sign = 1.0 if instruction == liveness.LEFT else -1.0
            wrong_way = [i for i in range(n) if yaws[i] * sign < 0]  # mirrored, these turn the asked way
            turned = sorted((i for i in range(n) if i != frontal), key=lambda i: abs(yaws[i]))
            jitter = rng if kind.endswith("jitter") or kind == "slideshow" else None
            if kind.startswith("two_photo"):
                pattern = TWO_PHOTO_PATTERNS[k % len(TWO_PHOTO_PATTERNS)]
                picks = [frontal, turned[-1]]
                sequence = [picks[j] for j in pattern]
                mirrored = [turned[-1]] if turned[-1] in wrong_way else []
            elif kind == "slideshow":
                count = min(n, (3, 4, 8)[k % 3])
                chosen = [int(i) for i in rng.permutation(n)[:count]]
                sequence = [chosen[f * count // BURST_FRAMES] for f in range(BURST_FRAMES)]
                mirrored = [i for i in chosen if rng.random() < 0.5]
            else:
                count = min(n, 4 if k < per_kind // 2 else BURST_FRAMES)
                ladder = [frontal] + [
                    turned[round(j * (len(turned) - 1) / max(count - 2, 1))] for j in range(count - 1)
                ]
                ladder = [frontal] + sorted(dict.fromkeys(ladder[1:]), key=lambda i: abs(yaws[i]))
                count = len(ladder)
                sequence = [ladder[f * count // BURST_FRAMES] for f in range(BURST_FRAMES)]
                mirrored = [i for i in ladder[1:] if i in wrong_way]
            yield kind, instruction, liveness.photo_burst(photos, sequence, mirrored=mirrored, rng=jitter)


def _tally(table: dict, kind: str, result: liveness.BurstResult) -> None:
    row = table.setdefault(kind, {"n": 0, "passed": 0, "why": Counter()})
    row["n"] += 1
    row["passed"] += int(result.ok)
    row["why"][result.why] += 1


def evaluate_photo_bursts(
    engine,
    people: dict[str, list[Image.Image]],
    *,
    seed: int = 0,
    rules: liveness.ChallengeRules = liveness.ChallengeRules(),
    per_kind: int = 4,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> dict:
    """{kind: {n, passed, why}} of the challenge check (geometry, same face, one continuous
    capture; no passive layer) on bursts cut from each person's photos (photo_attacks)."""
    gate = engine.config.door
    rng = np.random.default_rng(seed)
    table: dict = {}
    for _name, photos in progress(list(people.items())):
        usable, yaws = [], []
        for image in photos:
            faces = engine.detector.detect(image, gate.min_face_px, gate.detect_max_side)
            if faces:
                usable.append(image)
                yaws.append(liveness.yaw(np.asarray(faces[0].landmarks)))
        if len(usable) < 2:
            continue
        for kind, instruction, frames in photo_attacks(usable, yaws, rng, per_kind):
            _tally(table, kind, liveness.check_burst(engine, frames, instruction, rules=rules))
    return {kind: {**row, "why": dict(row["why"])} for kind, row in table.items()}


def evaluate_pad(
    engine,
    folder: str | Path,
    *,
    threshold: float,
    doubt_below: float | None = None,
    seed: int = 0,
    bursts: bool = True,
    photos: Iterable[str | Path] = (),
    rules: liveness.ChallengeRules = liveness.ChallengeRules(),
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> dict:
    """The report (see the module's docstring); ``scores`` holds every score for plotting.
    ``photos``: more folders of one sub-folder of photos per person, whose people with several
    photos give two-photo and slideshow bursts (as pad ``folder``'s bona fide people do)."""
    files = pad_files(folder)
    photo_folders = [(str(f), photo_people(f)) for f in photos]
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
    still_bursts = {"n": burst_n, "passed": burst_passed, "why": dict(burst_why)}
    if bursts:
        still_bursts["kinds"] = _photo_burst_report(engine, folder, files, photo_folders, seed, rules, progress)
    report = {
        "threshold": threshold,
        "classes": classes,
        "still_bursts": still_bursts,
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


def _photo_burst_report(engine, folder, files, photo_folders, seed, rules, progress) -> dict:
    """still_bursts' ``kinds``: {source: {kind: {n, passed, why}}}, source the pad folder's bona
    fide people (several photos of one person: NUAA sessions, a selfie and video frames) and
    each ``photos`` folder."""
    out = {}
    sources = [(str(folder), files.get("bona_fide", {}))] + list(photo_folders)
    for index, (name, people) in enumerate(sources):
        loaded = {person: [load(p) for p in paths] for person, paths in people.items() if len(paths) >= 2}
        if loaded:
            out[name] = evaluate_photo_bursts(engine, loaded, seed=seed + 1 + index, rules=rules, progress=progress)
    return out


def wilson_upper(passed: int, n: int, z: float = 1.96) -> float:
    """The upper end of the Wilson 95% interval of passed/n (for 0 of n: z²/(n+z²))."""
    if n == 0:
        return 1.0
    p = passed / n
    centre = p + z * z / (2 * n)
    margin = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre + margin) / (1 + z * z / n))


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
    for source, kinds in sb.get("kinds", {}).items():
        lines.append(f"  Bursts cut from several photos of one person ({source}):")
        for kind, row in kinds.items():
            why = ", ".join(f"{k} {v}" for k, v in sorted(row["why"].items()))
            lines.append(
                f"    {kind:<24} {row['passed']} of {row['n']} passed "
                f"(95% upper bound {100 * wilson_upper(row['passed'], row['n']):.1f}%): {why}"
            )
    return "\n".join(lines)

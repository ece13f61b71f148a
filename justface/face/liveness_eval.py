"""Evaluating liveness on a folder of presentation-attack images (plain library, no Django):
``{bona_fide,print,replay}/<subject>/*.jpg``.

At the door's detection settings each image's dominant face gets the passive score; rates are
fractions of the images with a face (``no_face`` counts the others): BPCER (bona fide refused)
and APCER (attacks accepted) at the threshold, overall and per subject (for replays: per video,
as the subjects of pad/dev are one video each). ``still_bursts`` runs the challenge check
(geometry and same face, without the passive layer, which would refuse most of them by itself)
on a burst made from each attack image (liveness.still_burst: shifts, rotation, scale, tilt and
brightness, as a hand-held print or phone moves) and counts how many pass; its ``kinds`` does
the same on bursts cut from several photos of one person (issue #21: two photos [P, P, T, T] and
slideshows, mirrored to turn the asked way, ordered by yaw or not, held by hand or not), per
source folder and kind: the pad folder's bona fide people and any ``photos`` folders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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


# --- bursts cut from several photos of one person (issue #21) ------------------------------------

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


# --- the door policy: refused, challenged, or let in with no challenge (issue #27) -------------

DECISIONS = ("no_face", "refused", "challenged", "in")


def manifest(folder: str | Path) -> dict[str, dict[str, str]]:
    """{relative path: {"source", "video"}} from the folder's MANIFEST.tsv (``source_repo`` names
    the source, i.e. the camera; ``video_id`` the video, else the subject). Empty without one."""
    import csv

    path = Path(folder) / "MANIFEST.tsv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {
            row["path"]: {"source": row.get("source_repo") or "", "video": row.get("video_id") or row["subject"]}
            for row in csv.DictReader(fh, delimiter="\t")
        }


def measure_frames(
    engine, folders: Sequence[str | Path], *, progress: Callable[[Iterable], Iterable] = lambda it: it
) -> list[dict]:
    """Each image of ``folders`` as the door sees it: its dominant face at the door's detection
    settings (once more at 640 px when the small copy finds none, as the door does) and both
    passive cues. A frame without a face has ``cues`` None."""
    gate = engine.config.door
    jobs = []
    for folder in folders:
        root = Path(folder)
        meta = manifest(root)
        for cls, subjects in pad_files(root).items():
            for subject, paths in subjects.items():
                for path in paths:
                    rel = path.relative_to(root).as_posix()
                    info = meta.get(rel, {})
                    jobs.append(
                        {
                            "folder": root.name,
                            "path": rel,
                            "cls": cls,
                            "subject": subject,
                            "source": info.get("source") or root.name,
                            "video": f"{root.name}:{cls}/{info.get('video') or subject}",
                        }
                    )
    out = []
    for job in progress(jobs):
        image = load(Path(next(f for f in folders if Path(f).name == job["folder"])) / job["path"])
        faces = engine.detector.detect(image, gate.min_face_px, gate.detect_max_side)
        retried = False
        if not faces and max(image.size) > gate.detect_max_side:
            faces = engine.detector.detect(image, gate.min_face_px, max(gate.detect_max_side, 640))
            retried = True
        cues = engine.passive.cues(image, faces[0]) if faces else None
        out.append({**job, "retried": retried, "cues": cues})
    return out


def decide(cues: liveness.Cues | None, reference: liveness.LiveReference, threshold: float) -> str:
    """The door's answer to one frame: no face (not let in), refused, challenged, or in."""
    if cues is None:
        return "no_face"
    if cues.p_real < threshold:
        return "refused"
    return "in" if reference.clearly_live(cues) else "challenged"


def references_by_source(
    frames: Sequence[dict], *, quantile: float = liveness.LIVE_QUANTILE
) -> Callable[[dict], tuple[liveness.LiveReference, bool]]:
    """Per-door calibration, simulated: a frame's reference is built from the live frames of its
    source (its camera) of the OTHER subjects; a source with live frames of fewer than two
    subjects falls back to the uncalibrated default. Returns frame -> (reference, calibrated)."""
    live: dict[str, dict[str, list[liveness.Cues]]] = {}
    for f in frames:
        if f["cls"] == "bona_fide" and f["cues"] is not None:
            live.setdefault(f["source"], {}).setdefault(f["subject"], []).append(f["cues"])
    cache: dict[tuple[str, str], tuple[liveness.LiveReference, bool]] = {}

    def reference(frame: dict) -> tuple[liveness.LiveReference, bool]:
        key = (frame["source"], frame["subject"])
        if key not in cache:
            others = [
                c
                for subject, cues in live.get(frame["source"], {}).items()
                if subject != frame["subject"]
                for c in cues
            ]
            cache[key] = (
                (liveness.reference_from_live(others, quantile), True)
                if others
                else (liveness.DEFAULT_REFERENCE, False)
            )
        return cache[key]

    return reference


def _rates(decisions: Sequence[str]) -> dict:
    from .evaluate import wilson_interval

    n = len(decisions)
    out: dict = {"n": n}
    for d in DECISIONS:
        k = sum(1 for x in decisions if x == d)
        ci = wilson_interval(k, n)
        out[d] = {"k": k, "rate": k / n if n else None, "ci95": [round(ci[0], 4), round(ci[1], 4)] if ci else None}
    return out


def evaluate_policy(
    frames: Sequence[dict],
    *,
    threshold: float = liveness.THRESHOLD,
    calibrate_by_source: bool = False,
    quantile: float = liveness.LIVE_QUANTILE,
    reference: liveness.LiveReference = liveness.DEFAULT_REFERENCE,
) -> dict:
    """Refused / challenged / let in unchallenged, per class, per source, per subject and per
    video (frames of one video are not independent), with Wilson 95% intervals. Without
    ``calibrate_by_source`` every frame meets ``reference`` (a new door: the default)."""
    pick = references_by_source(frames, quantile=quantile) if calibrate_by_source else (lambda f: (reference, False))
    rows = []
    for f in frames:
        ref, calibrated = pick(f)
        rows.append({**f, "decision": decide(f["cues"], ref, threshold), "calibrated": calibrated})

    def group(key: Callable[[dict], str], subset: Iterable[dict]) -> dict:
        buckets: dict[str, list[str]] = {}
        for r in subset:
            buckets.setdefault(key(r), []).append(r["decision"])
        return {k: _rates(v) for k, v in sorted(buckets.items())}

    classes = sorted({r["cls"] for r in rows}, key=lambda c: CLASSES.index(c) if c in CLASSES else 99)
    report = {
        "threshold": threshold,
        "calibrate_by_source": calibrate_by_source,
        "quantile": quantile if calibrate_by_source else None,
        "reference": None if calibrate_by_source else reference.as_record(),
        "classes": group(lambda r: r["cls"], rows),
        "attacks": _rates([r["decision"] for r in rows if r["cls"] in ATTACKS]),
        "retried_detection": sum(r["retried"] and r["cues"] is not None for r in rows),
        "per_source": {c: group(lambda r: r["source"], [r for r in rows if r["cls"] == c]) for c in classes},
        "per_subject": {c: group(lambda r: r["subject"], [r for r in rows if r["cls"] == c]) for c in classes},
        "per_video": {c: group(lambda r: r["video"], [r for r in rows if r["cls"] == c]) for c in classes},
    }
    if calibrate_by_source:
        report["classes_calibrated"] = group(lambda r: r["cls"], [r for r in rows if r["calibrated"]])
        report["classes_uncalibrated"] = group(lambda r: r["cls"], [r for r in rows if not r["calibrated"]])
    return report


def burst_gain(
    frames: Sequence[dict], *, size: int = 3, threshold: float = liveness.THRESHOLD, calibrate_by_source: bool = True
) -> dict:
    """What scoring a burst adds (FaceEngine.analyse_door_burst: the median frame's cues decide,
    refusal included): each video's frames with a face, in order, cut into bursts of ``size``;
    the same decisions as single frames, on the frames of those videos only."""
    pick = references_by_source(frames) if calibrate_by_source else (lambda f: (liveness.DEFAULT_REFERENCE, False))
    videos: dict[str, list[dict]] = {}
    for f in frames:
        if f["cues"] is not None:
            videos.setdefault(f["video"], []).append(f)
    single: dict[str, list[str]] = {}
    burst: dict[str, list[str]] = {}
    for group in videos.values():
        if len(group) < size:
            continue
        for f in group:
            single.setdefault(f["cls"], []).append(decide(f["cues"], pick(f)[0], threshold))
        for i in range(0, len(group) - size + 1, size):
            chunk = group[i : i + size]
            burst.setdefault(chunk[0]["cls"], []).append(
                decide(liveness.Cues.median([f["cues"] for f in chunk]), pick(chunk[0])[0], threshold)
            )
    return {
        "size": size,
        "single": {c: _rates(v) for c, v in sorted(single.items())},
        "burst": {c: _rates(v) for c, v in sorted(burst.items())},
    }


def _pct(row: dict, decision: str) -> str:
    cell = row[decision]
    if cell["rate"] is None:
        return "-"
    lo, hi = cell["ci95"]
    return f"{100 * cell['rate']:.1f}% [{100 * lo:.1f}-{100 * hi:.1f}]"


def format_policy(report: dict, *, videos: bool = True) -> str:
    how = (
        f"per-source calibration (each source's reference from its other subjects' live frames, quantile "
        f"{report['quantile']:.2f})"
        if report["calibrate_by_source"]
        else f"uncalibrated reference {report['reference']}"
    )
    lines = [f"Door policy, refuse below p_real {report['threshold']:.2f}, {how}; 95% Wilson intervals"]

    def block(title: str, rows: dict, indent: str = "  ") -> None:
        lines.append(title)
        for name, row in rows.items():
            lines.append(
                f"{indent}{name:<12} n={row['n']:<4} refused {_pct(row, 'refused')}, challenged "
                f"{_pct(row, 'challenged')}, in unchallenged {_pct(row, 'in')}, no face {row['no_face']['k']}"
            )

    block("Per class:", report["classes"])
    if report.get("classes_calibrated"):
        block("Sources with a calibrated reference:", report["classes_calibrated"])
        block("Sources on the default (one subject):", report["classes_uncalibrated"])
    lines.append(f"Faces found only by the 640 px retry: {report['retried_detection']}")
    for cls in report["per_video"]:
        if cls in ATTACKS and videos:
            let_in = {v: r for v, r in report["per_video"][cls].items() if r["in"]["k"]}
            lines.append(
                f"{cls}: {len(let_in)} of {len(report['per_video'][cls])} videos have a frame let in unchallenged"
                + "".join(f"\n    {v}: {r['in']['k']} of {r['n']}" for v, r in let_in.items())
            )
    return "\n".join(lines)


def format_bursts(gain: dict) -> str:
    lines = [f"Bursts of {gain['size']} frames of one video (median frame's cues) vs single frames of those videos:"]
    for cls, row in gain["burst"].items():
        one = gain["single"][cls]
        lines.append(
            f"  {cls:<9} single n={one['n']}: refused {_pct(one, 'refused')}, challenged {_pct(one, 'challenged')}, "
            f"in {_pct(one, 'in')} | burst n={row['n']}: refused {_pct(row, 'refused')}, challenged "
            f"{_pct(row, 'challenged')}, in {_pct(row, 'in')}"
        )
    return "\n".join(lines)

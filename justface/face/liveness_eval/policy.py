"""The door policy on a folder of frames: each refused, challenged, or let in with no challenge,
against a reference learned per source (camera), and what a burst adds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .. import liveness
from .pad import ATTACKS, CLASSES, load, pad_files

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
    from ..evaluate import wilson_interval

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

"""Accuracy figures for a labelled face set: verification (1:1) and identification (1:N).

Pure functions over {identity: [templates]}; ``evaluate_folder`` adds the photo loading for
a folder with one sub-folder per identity (the layout of LFW and of ../shared/faces/dev).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .gallery import Gallery, MatchPolicy

if TYPE_CHECKING:
    from .engine import FaceEngine

FMR_TARGETS = {"1e-2": 1e-2, "1e-3": 1e-3, "1e-4": 1e-4}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def pair_scores(templates: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of every unordered pair: (genuine, impostor)."""
    labels = np.concatenate([[i] * len(t) for i, t in enumerate(templates.values())])
    matrix = np.concatenate([np.asarray(t, dtype=np.float32) for t in templates.values()])
    scores = matrix @ matrix.T
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    flat = scores[upper].astype(np.float64)
    return flat[same], flat[~same]


def score_stats(scores: np.ndarray) -> dict[str, float | int]:
    if len(scores) == 0:
        return {"count": 0}
    return {
        "count": int(len(scores)),
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "min": float(scores.min()),
        "max": float(scores.max()),
    }


def roc_auc(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """P(genuine score > impostor score), ties counting one half (Mann-Whitney U)."""
    imp = np.sort(impostor)
    below = np.searchsorted(imp, genuine, side="left")
    ties = np.searchsorted(imp, genuine, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(genuine) * len(imp)))


def threshold_at_fmr(impostor: np.ndarray, fmr: float) -> float:
    """Lowest threshold (accept when score >= threshold) whose false-match rate is <= fmr."""
    ranked = np.sort(impostor)[::-1]
    allowed = math.floor(fmr * len(ranked))
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(np.nextafter(ranked[allowed], np.inf))


def fnmr(genuine: np.ndarray, threshold: float) -> float:
    return float((genuine < threshold).mean())


def identification(
    templates: Mapping[str, np.ndarray], policy: MatchPolicy, enroll: int = 1
) -> dict[str, Any]:
    """1:N with the threshold-and-margin rule, leave-out style.

    Each round enrolls ``enroll`` photos per identity (rotating which ones, so that every
    photo serves as enrollment once) and probes with the others: rank1 counts the best
    identity being right; ``accepted`` counts right and accepted by ``policy``. Open-set:
    each identity is then removed from the gallery in turn and its probes must all be
    rejected; any accepted is an impostor accepted (as are enrolled probes accepted as
    someone else).
    """
    ids = [i for i, t in templates.items() if len(t) > enroll]
    rounds = min(len(templates[i]) for i in ids) if ids else 0
    probes = rank1 = accepted = misidentified = open_set_accepted = open_set_probes = 0
    for r in range(rounds):
        gallery = Gallery()
        held_out: dict[str, np.ndarray] = {}
        for identity in ids:
            t = np.asarray(templates[identity], dtype=np.float32)
            chosen = [(r + j) % len(t) for j in range(enroll)]
            gallery.add_many([identity] * enroll, t[chosen])
            held_out[identity] = np.delete(t, chosen, axis=0)
        for identity, probe_set in held_out.items():
            for probe in probe_set:
                match = gallery.search(probe)
                decision = policy.decide(match)
                probes += 1
                rank1 += match.identity == identity
                accepted += decision.accepted and decision.identity == identity
                misidentified += decision.accepted and decision.identity != identity
            without = gallery.without(identity)
            for probe in probe_set:
                open_set_probes += 1
                open_set_accepted += policy.decide(without.search(probe)).accepted
    return {
        "enroll_per_identity": enroll,
        "rounds": rounds,
        "probes": probes,
        "rank1": rank1 / probes if probes else 0.0,
        "accepted_correct": accepted / probes if probes else 0.0,
        "misidentified_accepted": misidentified,
        "open_set_probes": open_set_probes,
        "open_set_accepted": open_set_accepted,
    }


def evaluate(
    templates: Mapping[str, Sequence[np.ndarray] | np.ndarray],
    policy: MatchPolicy,
    enroll: int = 1,
) -> dict[str, Any]:
    """All figures for {identity: [L2-normalised templates]} (see docs/face-engine.md).

    Figures that need genuine and impostor pairs (at least two identities, one of them
    with two templates) are None when the data cannot give them."""
    stacked = {i: np.asarray(t, dtype=np.float32) for i, t in templates.items() if len(t)}
    stacked = {i: t.reshape(len(t), -1) for i, t in stacked.items()}
    genuine, impostor = pair_scores(stacked) if stacked else (np.empty(0), np.empty(0))
    measurable = len(genuine) > 0 and len(impostor) > 0
    thresholds = {k: threshold_at_fmr(impostor, v) if measurable else None for k, v in FMR_TARGETS.items()}
    ident = identification(stacked, policy, enroll)
    return {
        "identities": len(stacked),
        "templates": int(sum(len(t) for t in stacked.values())),
        "genuine": score_stats(genuine),
        "impostor": score_stats(impostor),
        "auc": roc_auc(genuine, impostor) if measurable else None,
        "fnmr_at_fmr": {k: fnmr(genuine, t) if measurable else None for k, t in thresholds.items()},
        "thresholds": thresholds,
        "fmr_floor": 1 / len(impostor) if len(impostor) else None,
        "policy": {"threshold": policy.threshold, "margin": policy.margin},
        "rank1": ident["rank1"],
        "identification": ident,
        "impostors_accepted_at_default": ident["misidentified_accepted"]
        + ident["open_set_accepted"],
    }


def image_files(folder: str | Path) -> dict[str, list[Path]]:
    """{identity: sorted photo paths} for a folder with one sub-folder per identity."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder of identity sub-folders")
    return {
        sub.name: sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for sub in sorted(root.iterdir())
        if sub.is_dir()
    }


def evaluate_folder(
    folder: str | Path,
    engine: FaceEngine,
    policy: MatchPolicy | None = None,
    enroll: int = 1,
    batch: int = 32,
) -> dict[str, Any]:
    """Template every photo (no quality gate: see FaceEngine.photo_crop) and evaluate with
    ``policy`` (default: the engine's). Photos without a face are listed, not hidden."""
    labels: list[str] = []
    crops: list[np.ndarray] = []
    no_face: list[str] = []
    for identity, paths in image_files(folder).items():
        for path in paths:
            crop = engine.photo_crop(path.read_bytes())
            if crop is None:
                no_face.append(f"{identity}/{path.name}")
            else:
                labels.append(identity)
                crops.append(crop)
    templates: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(crops), batch):
        embedded = engine.embed(np.stack(crops[start : start + batch]))
        for identity, template in zip(labels[start : start + batch], embedded):
            templates.setdefault(identity, []).append(template)
    report = evaluate(templates, policy or engine.config.policy, enroll)
    report["failed_to_template"] = no_face
    return report


def format_report(report: Mapping[str, Any]) -> str:
    """Human-readable form of ``evaluate``'s dict."""
    g, i = report["genuine"], report["impostor"]
    ident = report["identification"]
    if report["auc"] is None:
        return (
            f"{report['identities']} identities, {report['templates']} templates: too few to "
            "measure (needs two identities and two photos of at least one of them)"
        )
    lines = [
        f"{report['identities']} identities, {report['templates']} templates",
        _stats_line("genuine ", g),
        _stats_line("impostor", i),
        f"ROC AUC: {report['auc']:.5f}",
        "FNMR at FMR (threshold):",
        *(
            f"  FMR {k}: FNMR {report['fnmr_at_fmr'][k]:.2%} (threshold {report['thresholds'][k]:.4f})"
            for k in FMR_TARGETS
        ),
        f"  (lowest measurable FMR with {i['count']} impostor pairs: {report['fmr_floor']:.1e})",
        f"1:N with threshold {report['policy']['threshold']:.3f} and margin "
        f"{report['policy']['margin']:.3f}, {ident['enroll_per_identity']} enrollment photo(s), "
        f"{ident['probes']} probes over {ident['rounds']} rounds:",
        f"  rank-1: {report['rank1']:.2%}; correct and accepted: {ident['accepted_correct']:.2%}",
        f"  impostors accepted: {report['impostors_accepted_at_default']} "
        f"({ident['misidentified_accepted']} enrolled probes as someone else, "
        f"{ident['open_set_accepted']} of {ident['open_set_probes']} unenrolled probes)",
    ]
    failed: Iterable[str] = report.get("failed_to_template", [])
    if failed:
        lines.append(f"no face found in: {', '.join(failed)}")
    return "\n".join(lines)


def _stats_line(name: str, s: Mapping[str, Any]) -> str:
    if not s["count"]:
        return f"{name}: no pairs"
    return (
        f"{name}: n={s['count']} mean={s['mean']:.4f} std={s['std']:.4f} "
        f"min={s['min']:.4f} max={s['max']:.4f}"
    )

"""Accuracy figures for a labelled face set: verification (1:1) and identification (1:N).

Pure functions over {identity: [templates]}; ``template_folder`` / ``evaluate_folder`` add
the photo loading for a folder with one sub-folder per identity (the layout of LFW and of
../shared/faces/dev), with an optional npz cache of the templates. Nothing here assumes a
template dimension: it is taken from the arrays. Open-set figures are in ``openset.py``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from .gallery import Gallery, MatchPolicy

if TYPE_CHECKING:
    from .engine import FaceEngine

FMR_TARGETS = {"1e-2": 1e-2, "1e-3": 1e-3, "1e-4": 1e-4}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def as_matrix(templates: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """(k, d) float32 from a (k, d) array or a list of k (d,) templates; (0, 0) when empty."""
    matrix = np.asarray(templates, dtype=np.float32)
    if matrix.size == 0:
        return matrix.reshape(0, matrix.shape[-1] if matrix.ndim == 2 else 0)
    return matrix.reshape(1, -1) if matrix.ndim == 1 else matrix.reshape(len(matrix), -1)


def pair_scores(templates: Mapping[str, np.ndarray], block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of every unordered pair: (genuine, impostor), float64.

    Computed ``block`` rows at a time (no n x n index arrays): 2,000 templates, ~2 million
    pairs, take well under a second and ~50 MB beyond the 16 MB of the result."""
    mats = [as_matrix(t) for t in templates.values()]
    mats = [m for m in mats if len(m)]
    if not mats:
        return np.empty(0), np.empty(0)
    labels = np.concatenate([np.full(len(m), i) for i, m in enumerate(mats)])
    matrix = np.concatenate(mats)
    n = len(labels)
    genuine: list[np.ndarray] = []
    impostor: list[np.ndarray] = []
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = matrix[start:stop] @ matrix[start:].T  # rows start..stop against columns start..n
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, n)[None, :]
        upper = cols > rows
        same = labels[start:stop, None] == labels[None, start:]
        genuine.append(scores[upper & same].astype(np.float64))
        impostor.append(scores[upper & ~same].astype(np.float64))
    return np.concatenate(genuine), np.concatenate(impostor)


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


WILSON_Z95 = NormalDist().inv_cdf(0.975)  # 1.95996...


def wilson_interval(successes: int, trials: int, z: float = WILSON_Z95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial rate (default 95%); None without trials.

    Unlike the normal approximation it is useful at 0 successes: 0 of 1,994 strangers
    accepted gives [0, 0.00192] ("at most about 1 in 520, with 95% confidence")."""
    if trials <= 0:
        return None
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    lower = 0.0 if successes <= 0 else max(0.0, centre - half)
    upper = 1.0 if successes >= trials else min(1.0, centre + half)
    return (lower, upper)


def det_curve(
    genuine: np.ndarray, impostor: np.ndarray, points: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FMR, FNMR) for the rule "accept when score >= threshold", ascending
    thresholds, vectorised (sorted arrays and searchsorted; no loop over pairs).

    The thresholds are taken where the curve moves: the impostor scores at ``points`` FMR
    values log-spaced down to one pair, and the genuine scores at ``points`` FNMR values
    log-spaced down to one probe, so both tails keep their detail whatever the set size.
    -inf scores are never accepted (the open-set curve uses them for "refused by the margin
    rule or best identity wrong")."""
    gen = np.sort(np.asarray(genuine, dtype=np.float64))
    imp = np.sort(np.asarray(impostor, dtype=np.float64))
    candidates = [np.array([-1.0, 2.0])]  # below and above any cosine similarity
    for scores, from_top in ((gen, False), (imp, True)):
        finite = scores[np.isfinite(scores)]
        if len(finite):
            # Small FNMR: the lowest genuine scores; small FMR: the highest impostor scores.
            rates = np.unique(np.concatenate([np.geomspace(1 / len(finite), 1.0, points), [0.0]]))
            index = np.clip(np.round(rates * (len(finite) - 1)).astype(int), 0, len(finite) - 1)
            picked = finite[len(finite) - 1 - index] if from_top else finite[index]
            candidates += [picked, np.nextafter(picked, np.inf)]
    thresholds = np.unique(np.concatenate(candidates))
    fmr = (len(imp) - np.searchsorted(imp, thresholds, side="left")) / max(len(imp), 1)
    fnmr_ = np.searchsorted(gen, thresholds, side="left") / max(len(gen), 1)
    return thresholds, fmr, fnmr_


def identification(templates: Mapping[str, np.ndarray], policy: MatchPolicy, enroll: int = 1) -> dict[str, Any]:
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
        enrolled: list[np.ndarray] = []
        held_out: dict[str, np.ndarray] = {}
        for identity in ids:
            t = as_matrix(templates[identity])
            chosen = [(r + j) % len(t) for j in range(enroll)]
            enrolled.append(t[chosen])
            held_out[identity] = np.delete(t, chosen, axis=0)
        # Built in one go from the arrays (the template dimension is the data's).
        gallery = Gallery([i for i in ids for _ in range(enroll)], np.concatenate(enrolled))
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
    stacked = {i: as_matrix(t) for i, t in templates.items()}
    stacked = {i: t for i, t in stacked.items() if len(t)}
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
        "impostors_accepted_at_default": ident["misidentified_accepted"] + ident["open_set_accepted"],
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


@dataclass
class FolderTemplates:
    """Templates of a labelled folder: {identity: (k, d) float32}, photos in file-name order
    (only photos where a face was found), their file names, and the photos without a face."""

    templates: dict[str, np.ndarray]
    files: dict[str, list[str]]
    failed: list[str] = field(default_factory=list)  # "identity/file": no face found
    from_cache: bool = False

    @property
    def dim(self) -> int:
        return next((t.shape[1] for t in self.templates.values() if len(t)), 0)


def _listing(files: Mapping[str, Sequence[Path]]) -> list[str]:
    """What a cache must match: every photo as "identity/file<TAB>size in bytes"."""
    return [f"{identity}/{p.name}\t{p.stat().st_size}" for identity, paths in files.items() for p in paths]


def template_folder(
    folder: str | Path,
    engine: FaceEngine | Callable[[], FaceEngine],
    *,
    batch: int = 32,
    cache: str | Path | None = None,
    model_id: str | None = None,
    progress: bool | None = None,
) -> FolderTemplates:
    """Template every photo of ``folder`` (no quality gate: see FaceEngine.photo_crop).

    ``engine`` may be a zero-argument callable, called only when templates must be computed
    (a cache hit needs no model). With ``cache`` (an .npz file) and ``model_id`` (e.g. the
    basename of the engine's model_path), templates are read from the cache when it holds
    this folder with the same photo list (names and sizes) and the same model id, else
    computed and written there (other folders' entries in the file are kept). ``progress``:
    a tqdm bar on stderr (None: only when stderr is a terminal)."""
    files = image_files(folder)
    listing = _listing(files)
    if cache is not None:
        if model_id is None:
            raise ValueError("a template cache needs a model_id")
        cached = TemplateCache(cache).load(folder, model_id, listing)
        if cached is not None:
            return cached
    # An engine, or a factory of one (a function, or a class) called only now.
    eng = engine if hasattr(engine, "photo_crop") and not isinstance(engine, type) else engine()
    labels: list[tuple[str, str]] = []
    failed: list[str] = []
    from tqdm import tqdm

    with tqdm(total=len(listing), desc="templating photos", unit="photo", disable=_no_bar(progress)) as bar:
        pending: list[np.ndarray] = []
        embedded: list[np.ndarray] = []

        def flush() -> None:
            if pending:
                embedded.append(np.asarray(eng.embed(np.stack(pending)), dtype=np.float32))
                bar.update(len(pending))
                pending.clear()

        for identity, paths in files.items():
            for path in paths:
                crop = eng.photo_crop(path.read_bytes())
                if crop is None:
                    failed.append(f"{identity}/{path.name}")
                    bar.update(1)
                    continue
                labels.append((identity, path.name))
                pending.append(crop)
                if len(pending) == batch:
                    flush()
        flush()
    matrix = np.concatenate(embedded) if embedded else np.empty((0, 0), np.float32)
    result = _group(labels, matrix, failed)
    if cache is not None:
        TemplateCache(cache).save(folder, model_id, listing, result)
    return result


def _group(labels: Sequence[tuple[str, str]], matrix: np.ndarray, failed: list[str]) -> FolderTemplates:
    rows: dict[str, list[int]] = {}
    for row, (identity, _) in enumerate(labels):
        rows.setdefault(identity, []).append(row)
    return FolderTemplates(
        templates={i: matrix[r] for i, r in rows.items()},
        files={i: [labels[j][1] for j in r] for i, r in rows.items()},
        failed=list(failed),
    )


def _no_bar(progress: bool | None) -> bool | None:
    return None if progress is None else not progress


class TemplateCache:
    """An .npz of folder templates: one entry per folder (its resolved path), each with the
    model id, the photo list it was computed from, the templates and their dimension, the
    identity and file name of each row, and the photos without a face. Written atomically
    (temp file + rename); an unreadable file is treated as empty."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _read(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError):
            return {}

    @staticmethod
    def _entries(data: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        entries: dict[str, dict[str, np.ndarray]] = {}
        for key, value in data.items():
            prefix, _, name = key.partition("__")
            if name:
                entries.setdefault(prefix, {})[name] = value
        return entries

    def load(self, folder: str | Path, model_id: str, listing: Sequence[str]) -> FolderTemplates | None:
        for entry in self._entries(self._read()).values():
            try:
                if (
                    str(entry["folder"]) == str(Path(folder).resolve())
                    and str(entry["model_id"]) == model_id
                    and entry["listing"].tolist() == list(listing)
                ):
                    matrix = entry["templates"].astype(np.float32).reshape(-1, int(entry["dim"]))
                    labels = list(zip(entry["identity"].tolist(), entry["file"].tolist()))
                    result = _group(labels, matrix, entry["failed"].tolist())
                    result.from_cache = True
                    return result
            except (KeyError, ValueError):
                continue
        return None

    def save(self, folder: str | Path, model_id: str, listing: Sequence[str], result: FolderTemplates) -> None:
        folder_key = str(Path(folder).resolve())
        kept = [e for e in self._entries(self._read()).values() if "folder" in e and str(e["folder"]) != folder_key]
        identity = [i for i, names in result.files.items() for _ in names]
        new = {
            "folder": np.array(folder_key),
            "model_id": np.array(model_id),
            "dim": np.array(result.dim),
            "listing": np.array(list(listing), dtype=str),
            "identity": np.array(identity, dtype=str),
            "file": np.array([f for names in result.files.values() for f in names], dtype=str),
            "templates": (
                np.concatenate(list(result.templates.values())) if result.templates else np.empty((0, 0), np.float32)
            ),
            "failed": np.array(result.failed, dtype=str),
        }
        arrays = {f"f{n}__{k}": v for n, e in enumerate([*kept, new]) for k, v in e.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def evaluate_folder(
    folder: str | Path,
    engine: FaceEngine,
    policy: MatchPolicy | None = None,
    enroll: int = 1,
    batch: int = 32,
) -> dict[str, Any]:
    """Template every photo (no quality gate: see FaceEngine.photo_crop) and evaluate with
    ``policy`` (default: the engine's). Photos without a face are listed, not hidden."""
    folder_templates = template_folder(folder, engine, batch=batch, progress=False)
    report = evaluate(folder_templates.templates, policy or engine.config.policy, enroll)
    report["failed_to_template"] = folder_templates.failed
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
    return f"{name}: n={s['count']} mean={s['mean']:.4f} std={s['std']:.4f} min={s['min']:.4f} max={s['max']:.4f}"

"""DET pictures (matplotlib, Agg backend: no display needed).

``plot_det(path, {label: (genuine, impostor)})`` draws any number of named curves on one
figure: two models on one picture, or the verification and the open-set curve side by side
(``plot_evaluation``). Scores are "accept when score >= threshold"; -inf never accepted.
Importing this module raises ImportError when matplotlib is not installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .evaluate import det_curve  # noqa: E402

Curves = Mapping[str, tuple[np.ndarray, np.ndarray]]
VERIFICATION_AXES = ("False match rate (impostor pairs accepted)", "False non-match rate (genuine pairs refused)")
OPEN_SET_AXES = ("Stranger acceptance rate", "Member miss rate (not accepted as themselves)")


@dataclass(frozen=True)
class Panel:
    """One DET axes: named (genuine, impostor) curves and named operating points (x, y)."""

    title: str
    curves: Curves
    points: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    xlabel: str = VERIFICATION_AXES[0]
    ylabel: str = VERIFICATION_AXES[1]
    counted: tuple[str, str] = ("genuine", "impostor")  # what the legend counts of each curve


OPEN_SET_COUNTED = ("member probes", "stranger probes")


def plot_det(
    path: str | Path,
    curves: Curves,
    *,
    points: Mapping[str, tuple[float, float]] | None = None,
    title: str = "DET",
    xlabel: str = VERIFICATION_AXES[0],
    ylabel: str = VERIFICATION_AXES[1],
    scale: str = "log",
) -> Path:
    """One DET axes with every curve of ``curves`` ({label: (genuine, impostor) scores}),
    written as a PNG to ``path``. ``scale``: "log" (log-log) or "normal" (normal-deviate)."""
    return plot_panels(path, [Panel(title, curves, points or {}, xlabel, ylabel)], scale=scale)


def plot_panels(path: str | Path, panels: Sequence[Panel], *, scale: str = "log") -> Path:
    """Several DET axes side by side in one PNG."""
    if scale not in ("log", "normal"):
        raise ValueError(f"scale must be 'log' or 'normal', not {scale!r}")
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.6), squeeze=False)
    try:
        for ax, panel in zip(axes[0], panels):
            draw_det(ax, panel, scale=scale)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def draw_det(ax, panel: Panel, *, scale: str = "log") -> None:
    """Draw ``panel`` on a matplotlib axes. Rates of 0 cannot be drawn on these axes: they
    are drawn at the lower edge (half the lowest measurable rate of the panel's curves on
    that axis), and an operating point there is drawn as a triangle pointing at it."""
    x_sizes = [len(i) for _, i in panel.curves.values() if len(i)]
    y_sizes = [len(g) for g, _ in panel.curves.values() if len(g)]
    x_floor = 0.5 / max(x_sizes) if x_sizes else 1e-4
    y_floor = 0.5 / max(y_sizes) if y_sizes else 1e-4
    for label, (genuine, impostor) in panel.curves.items():
        _, fmr, fnmr = det_curve(genuine, impostor)
        ax.plot(
            np.clip(fmr, x_floor, 1),
            np.clip(fnmr, y_floor, 1),
            label=f"{label} ({len(genuine)} {panel.counted[0]} / {len(impostor)} {panel.counted[1]})",
        )
    for n, (label, (x, y)) in enumerate(panel.points.items()):
        marker = "<" if x <= 0 < y else "v" if y <= 0 < x else "*" if x <= 0 and y <= 0 else "o"
        ax.plot(
            max(x, x_floor),
            max(y, y_floor),
            marker=marker,
            markersize=10,
            linestyle="none",
            color=f"C{len(panel.curves) + n}",
            label=label,
        )
    top = 1.0
    if scale == "normal":
        dist = NormalDist()
        ppf = np.vectorize(lambda p: dist.inv_cdf(min(max(p, 1e-12), 1 - 1e-12)))
        cdf = np.vectorize(dist.cdf)
        ax.set_xscale("function", functions=(ppf, cdf))
        ax.set_yscale("function", functions=(ppf, cdf))
        top = 0.9  # the normal deviate of 1 is infinite
        ticks = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8)
        for floor, set_ticks in ((x_floor, ax.set_xticks), (y_floor, ax.set_yticks)):
            shown = [t for t in ticks if t >= floor]
            set_ticks(shown, [f"{t:g}" for t in shown], fontsize=8)
        ax.tick_params(axis="x", labelrotation=45)
    else:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlim(x_floor * 0.8, top)
    ax.set_ylim(y_floor * 0.8, top)
    ax.grid(True, which="major", alpha=0.4)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.text(0.01, 0.01, "rates of 0 drawn at the lower edge", transform=ax.transAxes, fontsize=7, alpha=0.6)


def plot_score_distributions(
    path: str | Path,
    scores: Mapping[str, Sequence[float]],
    *,
    threshold: float,
    doubt_below: float | None = None,
    title: str = "Passive liveness scores",
) -> Path:
    """Histograms of scores per class (0-1) with the threshold (and the upper edge of the grey
    band) drawn in, as a PNG."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    try:
        bins = np.linspace(0, 1, 41)
        for n, (label, values) in enumerate(scores.items()):
            values = np.asarray(values, dtype=float)
            if len(values):
                ax.hist(
                    values,
                    bins=bins,
                    alpha=0.5,
                    color=f"C{n}",
                    label=f"{label} ({len(values)})",
                    weights=np.full(len(values), 1 / len(values)),
                )
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.2f}")
        if doubt_below is not None:
            ax.axvline(doubt_below, color="grey", linestyle=":", label=f"in doubt below {doubt_below:.2f}")
        ax.set_xlabel("p_real (MiniFASNetV2 softmax[1])")
        ax.set_ylabel("fraction of the class's faces")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="upper center")
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def plot_policy(path: str | Path, reports: Mapping[str, Mapping], *, title: str = "Door policy per class") -> Path:
    """Per report (e.g. uncalibrated, per-source calibration) and class: the shares refused,
    challenged and let in unchallenged (liveness_eval.evaluate_policy), with Wilson 95% intervals."""
    decisions = (("refused", "C3"), ("challenged", "C1"), ("in", "C2"))
    panels = list(reports.items())
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2), squeeze=False)
    try:
        for ax, (name, report) in zip(axes[0], panels):
            classes = list(report["classes"])
            x = np.arange(len(classes))
            for i, (decision, colour) in enumerate(decisions):
                rates = [report["classes"][c][decision]["rate"] or 0.0 for c in classes]
                cis = [report["classes"][c][decision]["ci95"] or [0.0, 0.0] for c in classes]
                err = np.array([[r - lo for r, (lo, _) in zip(rates, cis)], [hi - r for r, (_, hi) in zip(rates, cis)]])
                ax.bar(x + (i - 1) * 0.27, rates, 0.27, color=colour, label=decision, yerr=err, capsize=3)
            ax.set_xticks(x, classes)
            ax.set_ylim(0, 1)
            ax.set_ylabel("share of frames")
            ax.set_title(name, fontsize=10)
            ax.grid(True, axis="y", alpha=0.4)
            ax.legend(fontsize=8)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path

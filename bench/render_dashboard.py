"""Draws the Grafana dashboard's main panels (deploy/grafana/justface.json) from real scrapes of
/metrics, for README: Grafana itself is not installed here. The same expressions, computed by
hand from consecutive scrapes (`bench/door_bench.py --scrape-log FILE`): rates from counter
differences, quantiles from histogram buckets as Prometheus's histogram_quantile does.

    .venv/bin/python bench/render_dashboard.py scrapes.jsonl docs/img/dashboard-bench.png
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

WINDOW = 3  # scrapes per rate window (15 s at the bench's 5 s)


def load(path: Path) -> list[tuple[float, dict]]:
    """[(time, {(name, labels...): value})] for each scrape of the longest run in the file (a bench
    with --repeat appends one run per server, each counting from zero)."""
    scrapes = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        values = {}
        for family in text_string_to_metric_families(row["text"]):
            for s in family.samples:
                values[(s.name, tuple(sorted(s.labels.items())))] = s.value
        scrapes.append((row["t"], values))
    runs, gap = [[]], 30.0
    for scrape in scrapes:
        if runs[-1] and scrape[0] - runs[-1][-1][0] > gap:
            runs.append([])
        runs[-1].append(scrape)
    return max(runs, key=len)


def rate_by(scrapes, name: str, by: str, where=lambda labels: True) -> dict[str, list[tuple[float, float]]]:
    """Per-minute rate of a counter over WINDOW scrapes, summed by one label."""
    series = defaultdict(list)
    for i in range(WINDOW, len(scrapes)):
        (t0, old), (t1, new) = scrapes[i - WINDOW], scrapes[i]
        sums = defaultdict(float)
        for (n, labels), value in new.items():
            d = dict(labels)
            if n == name and where(d):
                sums[d.get(by, "")] += max(value - old.get((n, labels), 0.0), 0.0)
        for key, delta in sums.items():
            series[key].append((t1, delta / (t1 - t0) * 60))
    return series


def quantile_by(scrapes, name: str, by: str, q: float = 0.95, where=lambda labels: True):
    """histogram_quantile(q, sum by (by, le) (rate(name_bucket[window])))."""
    series = defaultdict(list)
    for i in range(WINDOW, len(scrapes)):
        (_, old), (t1, new) = scrapes[i - WINDOW], scrapes[i]
        buckets = defaultdict(lambda: defaultdict(float))
        for (n, labels), value in new.items():
            d = dict(labels)
            if n == f"{name}_bucket" and where(d):
                buckets[d.get(by, "")][float(d["le"])] += value - old.get((n, labels), 0.0)
        for key, counts in buckets.items():
            bounds = sorted(counts)
            total = counts[bounds[-1]]
            if total <= 0:
                continue
            rank, lower, below = q * total, 0.0, 0.0
            for bound in bounds:
                if counts[bound] >= rank:
                    upper = bound if bound != float("inf") else lower
                    inside = counts[bound] - below
                    value = upper if inside <= 0 else lower + (upper - lower) * (rank - below) / inside
                    series[key].append((t1, value))
                    break
                lower, below = bound, counts[bound]
    return series


def gauge_by(scrapes, name: str, by: str):
    series = defaultdict(list)
    for t, values in scrapes:
        sums = defaultdict(float)
        for (n, labels), value in values.items():
            if n == name:
                sums[dict(labels).get(by, "")] += value
        for key, value in sums.items():
            series[key].append((t, value))
    return series


def draw(ax, title: str, series: dict, unit: str = "", label: str = "{}") -> None:
    ax.set_title(title, fontsize=10, loc="left")
    start = min((points[0][0] for points in series.values() if points), default=0)
    for key, points in sorted(series.items()):
        if points:
            ax.plot([t - start for t, _ in points], [v for _, v in points], label=label.format(key), linewidth=1.4)
    if not any(series.values()):
        ax.text(0.5, 0.5, "no data in this run", ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xlabel("seconds", fontsize=8)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if any(series.values()):
        ax.legend(fontsize=7, loc="upper left")


def main(source: str, target: str) -> None:
    scrapes = load(Path(source))
    if len(scrapes) <= WINDOW:
        sys.exit(f"{source}: {len(scrapes)} scrapes; at least {WINDOW + 1} are needed.")
    fig, axes = plt.subplots(3, 3, figsize=(16, 11))
    fig.suptitle(
        "Justface dashboard panels drawn from real /metrics scrapes of a bench/door_bench.py run (not Grafana itself)",
        fontsize=12,
    )
    scans = {"where": lambda d: d.get("endpoint") == "door-scans"}
    draw(axes[0][0], "Decisions per minute", rate_by(scrapes, "justface_door_decisions_total", "decision"), "/min")
    draw(
        axes[0][1],
        "Scan answer time p95 (per door)",
        {
            k: [(t, v * 1000) for t, v in p]
            for k, p in quantile_by(scrapes, "justface_door_request_seconds", "door", **scans).items()
        },
        "ms",
        "door {}",
    )
    draw(
        axes[0][2],
        "Decision stages p95",
        {
            k: [(t, v * 1000) for t, v in p]
            for k, p in quantile_by(scrapes, "justface_door_stage_seconds", "stage").items()
        },
        "ms",
    )
    denied = {"where": lambda d: d.get("decision") == "denied"}
    draw(
        axes[1][0],
        "Refusals per minute by reason",
        rate_by(scrapes, "justface_door_decisions_total", "reason", **denied),
        "/min",
    )
    draw(
        axes[1][1],
        "Passive liveness score p50 (per door)",
        quantile_by(scrapes, "justface_liveness_passive_score", "door", q=0.5),
        "score",
        "door {}",
    )
    draw(
        axes[1][2],
        "Liveness failures per minute",
        rate_by(scrapes, "justface_liveness_failures_total", "door"),
        "/min",
        "door {}",
    )
    draw(
        axes[2][0], "Gallery templates (node)", gauge_by(scrapes, "justface_gallery_templates", "chain"), "", "chain {}"
    )
    draw(
        axes[2][1],
        "Gallery versions behind the database",
        gauge_by(scrapes, "justface_gallery_version_lag", "chain"),
        "",
        "chain {}",
    )
    draw(axes[2][2], "Members by status (all chains)", gauge_by(scrapes, "justface_members", "status"), "members")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(target, dpi=80)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

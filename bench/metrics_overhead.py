"""What the metrics cost one door decision, measured directly (the door's p95 moves by more than
that between two runs on a shared machine: bench/door_bench.py --metrics both).

Times the metric calls one face decision makes (the decision counter with its liveness and
grey-zone checks, the passive score, both stage timers, the request histogram) in multi-process
mode (files, as under gunicorn), and one scrape of the files (what /metrics adds per Prometheus
scrape, the database's gauges aside).

    .venv/bin/python bench/metrics_overhead.py [--decisions 20000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="metrics-overhead-")
    os.environ["JUSTFACE_METRICS_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from justface import metrics
    from monitoring.exposition import scrape

    assert metrics.MULTIPROCESS
    try:
        per_decision = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            for n in range(args.decisions):
                scan = SimpleNamespace(
                    centre=SimpleNamespace(chain_id=1), centre_id=1, door_id=1 + n % 8, method="face", status="granted"
                )
                check = SimpleNamespace(passive=0.93, challenge={}, challenge_passed=False, layer="passive")
                with metrics.timed("frame_analysis"):
                    pass
                with metrics.timed("gallery_search"):
                    pass
                metrics.door_decided(scan=scan, reason="ok", liveness=check)
                metrics.door_request(
                    ids={"chain": 1, "centre": 1, "door": 1 + n % 8}, endpoint="door-scans", seconds=0.04
                )
            per_decision.append((time.perf_counter() - started) / args.decisions * 1e6)
        scrapes = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            body = scrape(database=False)
            scrapes.append((time.perf_counter() - started) * 1000)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "decisions_per_repeat": args.decisions,
        "us_per_decision": [round(v, 1) for v in per_decision],
        "us_per_decision_median": round(statistics.median(per_decision), 1),
        "scrape_ms": [round(v, 1) for v in scrapes],
        "scrape_bytes": len(body),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()

"""The 1:1 thresholds in config.ENROLLMENT_MATCH are the ones bench/enrollment_match.py measured
(its JSON kept in docs/bench/), at the documented false-match rate."""

import json
from pathlib import Path

from justface.face.config import ENROLLMENT_MATCH

REPO = Path(__file__).resolve().parents[2]


def test_config_holds_the_measured_thresholds():
    [kept] = sorted((REPO / "docs" / "bench").glob("enrollment-match-*.json"))[-1:]
    report = json.loads(kept.read_text())
    assert report["fmr_per_member"] == 1e-3 and report["templates_per_member"] == 3
    for model, figures in report["models"].items():
        calib = figures["calib"]
        assert ENROLLMENT_MATCH[model] == calib["threshold"], model
        assert calib["threshold"] >= calib["threshold_exact"]  # rounded up, never down
        assert calib["fmr_per_pair"]["rate"] <= report["fmr_per_member"] / report["templates_per_member"]
    unmeasured = set(ENROLLMENT_MATCH) - set(report["models"])
    assert all(ENROLLMENT_MATCH[m] is None for m in unmeasured)  # no threshold that was not measured

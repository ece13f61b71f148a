"""Evaluation figures: exact on synthetic scores, sane on the real dev photos."""
from __future__ import annotations

import numpy as np
import pytest

from justface.face.evaluate import (
    evaluate,
    evaluate_folder,
    fnmr,
    format_report,
    roc_auc,
    threshold_at_fmr,
)
from justface.face.gallery import DIM, MatchPolicy


def test_threshold_at_fmr_never_exceeds_the_rate():
    impostor = np.linspace(0, 1, 1000)
    t = threshold_at_fmr(impostor, 1e-2)
    assert (impostor >= t).mean() <= 1e-2
    assert (impostor >= np.nextafter(impostor[-11], -1)).mean() > 1e-2  # and is the lowest
    assert fnmr(np.array([0.1, 0.995, 1.0]), t) == pytest.approx(1 / 3)


def test_auc():
    assert roc_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert roc_auc(np.array([0.5]), np.array([0.5])) == 0.5
    assert roc_auc(np.array([0.1]), np.array([0.9])) == 0.0


def clusters(spread: float, people: int = 6, photos: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = {}
    for p in range(people):
        centre = rng.standard_normal(DIM)
        t = centre + spread * rng.standard_normal((photos, DIM))
        out[f"p{p}"] = t / np.linalg.norm(t, axis=1, keepdims=True)
    return out


def test_well_separated_identities():
    report = evaluate(clusters(spread=0.3), MatchPolicy(0.5, 0.1))
    assert report["auc"] == 1.0
    assert report["fnmr_at_fmr"] == {"1e-2": 0.0, "1e-3": 0.0, "1e-4": 0.0}
    assert report["rank1"] == 1.0
    assert report["impostors_accepted_at_default"] == 0
    assert report["genuine"]["count"] == 6 * 6 and report["impostor"]["count"] == 24 * 23 // 2 - 36


def test_a_lax_policy_lets_impostors_in():
    report = evaluate(clusters(spread=0.3), MatchPolicy(-1.0, 0.0))
    ident = report["identification"]
    assert report["impostors_accepted_at_default"] == ident["open_set_probes"]


@pytest.fixture(scope="module")
def dev_report(engine, face_data):
    return evaluate_folder(face_data, engine)


def test_dev_set_figures(dev_report):
    r = dev_report
    assert {"auc", "fnmr_at_fmr", "thresholds", "rank1", "impostors_accepted_at_default"} <= r.keys()
    assert set(r["fnmr_at_fmr"]) == set(r["thresholds"]) == {"1e-2", "1e-3", "1e-4"}
    assert r["identities"] == 15 and not r["failed_to_template"]
    assert r["auc"] > 0.999
    assert r["fnmr_at_fmr"]["1e-3"] <= 0.04
    assert r["thresholds"]["1e-2"] < r["thresholds"]["1e-3"] <= r["thresholds"]["1e-4"]
    assert r["genuine"]["mean"] > 0.6 > 0.2 > r["impostor"]["mean"]
    assert r["rank1"] > 0.99
    assert r["impostors_accepted_at_default"] == 0


def test_report_reads_well(dev_report):
    text = format_report(dev_report)
    assert "ROC AUC" in text and "FMR 1e-3: FNMR" in text and "impostors accepted: 0" in text


@pytest.mark.parametrize("people, photos", [(0, 0), (1, 3), (3, 1)])
def test_too_little_data_gives_no_figures_rather_than_an_error(people, photos):
    report = evaluate(clusters(spread=0.3, people=people, photos=photos), MatchPolicy(0.5, 0.1))
    assert report["auc"] is None and report["fnmr_at_fmr"]["1e-3"] is None
    assert report["impostors_accepted_at_default"] == 0
    assert "too few to measure" in format_report(report)

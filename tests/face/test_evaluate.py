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


# --- open set: exact counts on vectors with a known structure ---------------------

from types import SimpleNamespace  # noqa: E402

from justface.face.evaluate import (  # noqa: E402
    FolderTemplates,
    det_curve,
    pair_scores,
    template_folder,
    wilson_interval,
)
from justface.face.gallery import Decision, Gallery, Match  # noqa: E402
from justface.face.openset import (  # noqa: E402
    format_open_set,
    is_confirm,
    open_set,
    split_open_set,
    top2_search,
)

D = 32  # not the model's 512: nothing in the open-set code may assume a dimension


def e(*weights: tuple[int, float]) -> np.ndarray:
    """Unit vector from (axis, weight) pairs: e((0, 1)) is the first basis vector."""
    v = np.zeros(D, np.float32)
    for axis, w in weights:
        v[axis] = w
    return v / np.linalg.norm(v)


def door_set():
    """Members m0..m4 enrolled on basis vectors 0..4 (K = 1). Member probes: 5 exact copies
    (accepted), m1's second probe is m2's vector (misidentified), m3's probe sits between m3
    (0.74) and m4 (0.67): margin 0.07, refused as ambiguous. Strangers: s_few (one photo, so
    not a member) on axis 10, and a strangers folder with axes 11, 12 (score 0) and a
    look-alike of m0 (0.9988): accepted."""
    folder = {
        "m0": [e((0, 1)), e((0, 1)), e((0, 1))],
        "m1": [e((1, 1)), e((1, 1)), e((2, 1))],
        "m2": [e((2, 1)), e((2, 1))],
        "m3": [e((3, 1)), e((3, 1), (4, 0.9))],
        "m4": [e((4, 1)), e((4, 1))],
        "s_few": [e((10, 1))],
    }
    strangers = {"x": [e((11, 1)), e((12, 1)), e((0, 1), (13, 0.05))]}
    return folder, strangers


def test_open_set_counts_exactly():
    folder, strangers = door_set()
    r = open_set(folder, MatchPolicy(0.6, 0.1), enroll=1, strangers=strangers).report
    assert {
        k: r[k]
        for k in (
            "gallery_size",
            "member_probes",
            "members_accepted",
            "members_confirm",
            "misidentified",
            "members_refused",
            "stranger_probes",
            "strangers_accepted",
            "strangers_confirm",
        )
    } == {
        "gallery_size": 5,
        "member_probes": 7,
        "members_accepted": 5,
        "members_confirm": 0,
        "misidentified": 1,
        "members_refused": 1,
        "stranger_probes": 4,
        "strangers_accepted": 1,
        "strangers_confirm": 0,
    }
    assert r["members_accepted_rate"] == pytest.approx(5 / 7)
    assert r["strangers_accepted_rate"] == 0.25 and r["misidentified_rate"] == pytest.approx(1 / 7)
    assert r["strangers_accepted_ci95"] == pytest.approx(list(wilson_interval(1, 4)))
    assert r["protocol"]["strangers_by_source"] == {
        "too_few_photos": 1,
        "not_chosen_for_gallery": 0,
        "strangers_folder": 1,
    }
    # The DET replays threshold + margin: at the policy's threshold it agrees with decide().
    row = next(row for row in r["det"] if row["threshold"] == 0.6)
    assert row == {
        "threshold": 0.6,
        "strangers_accepted": 1,
        "strangers_accepted_rate": 0.25,
        "members_missed_rate": pytest.approx(2 / 7),
        "misidentified": 1,
    }
    # Letting no stranger in: the threshold goes just above the look-alike's 0.9988.
    at = r["members_admitted_at_strangers"]["1e-3"]
    assert 0.998 < at["threshold"] < 0.9990 and at["strangers_accepted"] == 0
    assert at["members_accepted"] == 5 and at["misidentified"] == 1 and not at["measurable"]
    assert "accepted as another member 1" in format_open_set(r)


def test_the_decision_is_the_callable_given_and_confirm_is_counted_apart():
    folder, strangers = door_set()
    seen: list[Match] = []

    def decide(match: Match) -> Decision:  # the door's shape: a grey zone asks to confirm
        seen.append(match)
        if match.score >= 0.99 and match.margin >= 0.1:
            return Decision(True, match.identity, "match", match)
        if match.score >= 0.5:
            return Decision(False, None, "confirm", match)
        return Decision(False, None, "below_threshold", match)

    result = open_set(folder, MatchPolicy(0.6, 0.1), enroll=1, strangers=strangers, decide=decide)
    r = result.report
    assert len(seen) == 11 and all(isinstance(m, Match) for m in seen)
    assert (r["members_accepted"], r["members_confirm"], r["members_confirm_as_other"]) == (5, 1, 0)
    assert (r["strangers_accepted"], r["strangers_confirm"]) == (1, 0)
    assert r["policy"]["decide"].endswith("decide") and r["policy"]["decide"] != "policy.decide"
    # A future Decision with a confirm attribute counts as confirm whatever its reason.
    assert is_confirm(SimpleNamespace(confirm=True, reason="match", accepted=True))
    assert not is_confirm(SimpleNamespace(reason="match"))


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(0, 1994)
    assert lo == 0.0 and hi == pytest.approx(0.00192, abs=5e-6)
    assert wilson_interval(5, 100) == pytest.approx((0.02154, 0.11175), abs=5e-5)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 0) is None


def people(n: int, photos: int, dim: int = 64, seed: int = 0, noise: float = 0.05) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for p in range(n):
        t = rng.standard_normal(dim) + noise * rng.standard_normal((photos, dim))
        out[f"p{p:02d}"] = (t / np.linalg.norm(t, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_gallery_caps_members_at_random_and_the_rest_become_strangers():
    folder = people(10, 3, dim=128)
    folder["one_photo"] = folder["p00"][:1] * 0 + e((0, 1)).repeat(4)[:128]  # 1 photo, 128-d
    split = split_open_set(folder, enroll=1, gallery=4, seed=0)
    assert len(split.members) == 4 and split.members == sorted(split.members)
    assert split.members == split_open_set(folder, enroll=1, gallery=4, seed=0).members
    assert split.members != split_open_set(folder, enroll=1, gallery=4, seed=1).members
    assert set(split.stranger_probes) == (set(folder) - set(split.members))
    assert split.strangers_by_source == {"too_few_photos": 1, "not_chosen_for_gallery": 6, "strangers_folder": 0}
    r = open_set(folder, MatchPolicy(0.6, 0.1), enroll=1, gallery=4).report
    assert r["gallery_size"] == 4 and r["member_probes"] == 4 * 2
    assert r["stranger_probes"] == 6 * 3 + 1  # every photo of a stranger is a probe
    assert r["members_accepted"] == 8 and r["strangers_accepted"] == 0
    # A gallery larger than the eligible people holds them all.
    assert open_set(folder, MatchPolicy(0.6, 0.1), gallery=50).report["gallery_size"] == 10


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"enroll": 0}, "enroll"),
        ({"gallery": 0}, "at least 1 member"),
        ({"enroll": 3}, "nobody has more than 3"),
        ({"strangers": {"p01": np.eye(64, dtype=np.float32)[:1]}}, "both"),
    ],
)
def test_bad_open_set_input(kwargs, words):
    with pytest.raises(ValueError, match=words):
        split_open_set(people(3, 3), **kwargs)


def test_vectorised_search_equals_the_gallery():
    folder = people(40, 4, dim=512, noise=0.8, seed=3)  # Gallery still wants the model's dimension
    names = sorted(folder)
    enrolled = np.concatenate([folder[n][:2] for n in names])
    ids = [n for n in names for _ in range(2)]
    probes = np.concatenate([folder[n][2:] for n in names])
    top = top2_search(enrolled, np.repeat(np.arange(len(names)), 2), probes, max_block_bytes=4096)
    gallery = Gallery(ids, enrolled)
    for k, probe in enumerate(probes):
        want, got = gallery.search(probe), top.match(k, names)
        assert (got.identity, got.second_identity) == (want.identity, want.second_identity)
        assert got.score == pytest.approx(want.score, abs=1e-5)
        assert got.second_score == pytest.approx(want.second_score, abs=1e-5)
    one = top2_search(enrolled[:2], np.zeros(2, int), probes[:3])
    assert (one.second_identity == -1).all() and (one.second_score == -1.0).all()


def test_pair_scores_in_blocks_equal_the_full_matrix():
    folder = people(7, 3, dim=16, noise=0.5)
    genuine, impostor = pair_scores(folder, block=4)
    m = np.concatenate(list(folder.values()))
    labels = np.repeat(np.arange(7), 3)
    i, j = np.triu_indices(len(m), k=1)
    full = (m @ m.T)[i, j]
    same = labels[i] == labels[j]
    assert np.allclose(np.sort(genuine), np.sort(full[same]), atol=1e-6)
    assert np.allclose(np.sort(impostor), np.sort(full[~same]), atol=1e-6)
    assert len(genuine) == 7 * 3 and len(impostor) == 21 * 20 // 2 - 21


def test_det_curve():
    genuine, impostor = np.array([0.5, 0.7, 0.9, -np.inf]), np.linspace(-0.2, 0.6, 101)
    t, fmr, fnmr_ = det_curve(genuine, impostor)
    assert (np.diff(t) > 0).all() and (np.diff(fmr) <= 0).all() and (np.diff(fnmr_) >= 0).all()
    assert fmr[0] == 1.0 and fnmr_[0] == 0.25 and fmr[-1] == 0.0 and fnmr_[-1] == 1.0
    k = np.searchsorted(t, 0.7)
    assert t[k] == pytest.approx(0.7) and fnmr_[k] == 0.5 and fmr[k] == 0.0
    # Both tails keep every step however large the set: one impostor pair in a million.
    impostor = np.random.default_rng(0).normal(0, 0.1, 1_000_000)
    _, fmr, _ = det_curve(np.array([0.9]), impostor, points=50)
    assert {1e-6, 2e-6, 3e-6} <= set(np.round(fmr, 9))


class FakeEngine:
    """photo_crop/embed stand-ins: a photo's bytes give its template; b"none" has no face."""

    def __init__(self):
        self.embedded = 0

    def photo_crop(self, data: bytes):
        return None if data == b"none" else np.frombuffer(data.ljust(8, b"\0")[:8], np.uint8)

    def embed(self, crops):
        self.embedded += len(crops)
        v = np.asarray(crops, np.float32) + 1
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_template_cache_is_reused_only_for_the_same_photos_and_model(tmp_path):
    folder = tmp_path / "faces"
    for person, photos in {"ann": [b"a1", b"a2", b"none"], "bob": [b"b1"]}.items():
        (folder / person).mkdir(parents=True)
        for n, data in enumerate(photos):
            (folder / person / f"{n}.jpg").write_bytes(data)
    cache = tmp_path / "t.npz"
    fake = FakeEngine()
    first = template_folder(folder, lambda: fake, cache=cache, model_id="m.pt", batch=2)
    assert fake.embedded == 3 and not first.from_cache and first.failed == ["ann/2.jpg"]
    assert first.files == {"ann": ["0.jpg", "1.jpg"], "bob": ["0.jpg"]} and first.dim == 8

    def no_engine():
        raise AssertionError("a cache hit needs no engine")

    again = template_folder(folder, no_engine, cache=cache, model_id="m.pt")
    assert again.from_cache and again.files == first.files and again.failed == first.failed
    assert all(np.array_equal(again.templates[i], first.templates[i]) for i in first.templates)
    # Another model, or another photo list: computed again.
    assert not template_folder(folder, FakeEngine, cache=cache, model_id="sface.onnx").from_cache
    (folder / "bob" / "1.jpg").write_bytes(b"b2")
    changed = template_folder(folder, FakeEngine, cache=cache, model_id="m.pt")
    assert not changed.from_cache and changed.files["bob"] == ["0.jpg", "1.jpg"]
    assert template_folder(folder, no_engine, cache=cache, model_id="m.pt").from_cache
    assert isinstance(changed, FolderTemplates)


def test_plot_writes_a_png_with_several_curves(tmp_path):
    pytest.importorskip("matplotlib")
    from justface.face.plots import Panel, plot_det, plot_panels

    a, b = people(6, 4, dim=32, noise=0.4), people(6, 4, dim=32, noise=0.8, seed=1)
    path = plot_det(
        tmp_path / "det.png", {"model A": pair_scores(a), "model B": pair_scores(b)}, points={"A at 0.6": (0.0, 0.1)}
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    folder, strangers = door_set()
    result = open_set(folder, MatchPolicy(0.6, 0.1), strangers=strangers)
    two = plot_panels(
        tmp_path / "two.png",
        [Panel("pairs", {"A": pair_scores(a)}), Panel("open set", {"A": result.curve}, {"policy": (0.25, 0.0)})],
        scale="normal",
    )
    assert two.read_bytes()[:4] == b"\x89PNG"

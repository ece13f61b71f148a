"""1:N search: best and second-best *identity*, threshold and margin, safe concurrent writes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from justface.face.gallery import DIM, Gallery, Match, MatchPolicy


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def near(v: np.ndarray, rng: np.random.Generator, noise: float = 0.3) -> np.ndarray:
    w = v + noise * unit(rng, 1)[0]
    return w / np.linalg.norm(w)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_empty_gallery_matches_nobody(rng):
    match = Gallery().search(unit(rng, 1)[0])
    assert match.identity is None and match.second_identity is None
    assert not MatchPolicy(0.5, 0.1).decide(match).accepted


def test_search_finds_identity_and_runner_up(rng):
    people = unit(rng, 50)
    gallery = Gallery(range(50), people)
    probe = near(people[17], rng)
    match = gallery.search(probe)
    scores = people @ probe
    assert match.identity == 17 and match.score == pytest.approx(scores.max(), abs=1e-6)
    assert match.second_identity == int(np.argsort(scores)[-2])
    assert match.second_score == pytest.approx(np.sort(scores)[-2], abs=1e-6)
    assert match.margin == pytest.approx(match.score - match.second_score)


def test_several_templates_count_once_per_identity(rng):
    alice = unit(rng, 1)[0]
    gallery = Gallery(["alice", "alice", "bob"], np.stack([alice, near(alice, rng, 0.1), unit(rng, 1)[0]]))
    match = gallery.search(alice)
    assert match.identity == "alice" and match.score == pytest.approx(1.0, abs=1e-5)
    assert match.second_identity == "bob"  # not alice's second template


def test_add_remove_replace(rng):
    a, b, c = unit(rng, 3)
    gallery = Gallery()
    gallery.add("a", a)
    gallery.add_many(["b", "b"], np.stack([b, near(b, rng)]))
    assert len(gallery) == 3 and set(gallery.identities) == {"a", "b"}
    assert gallery.search(b).identity == "b"
    gallery.remove("b")
    assert len(gallery) == 1 and gallery.search(b).identity == "a"
    gallery.replace("a", np.stack([c]))
    assert gallery.search(c).score == pytest.approx(1.0, abs=1e-5)
    assert gallery.search(a).score < 0.5
    gallery.remove("nobody")  # removing what is not there is not an error
    assert len(gallery) == 1


def test_without_leaves_the_original_alone(rng):
    gallery = Gallery(["a", "b"], unit(rng, 2))
    assert gallery.without("a").identities == ("b",)
    assert gallery.identities == ("a", "b")


def test_policy_needs_threshold_and_margin():
    policy = MatchPolicy(threshold=0.55, margin=0.1)
    assert policy.decide(Match(1, 0.80, 2, 0.30)).accepted
    assert policy.decide(Match(1, 0.80, 2, 0.30)).identity == 1
    assert policy.decide(Match(1, 0.50, 2, 0.10)).reason == "below_threshold"
    refused = policy.decide(Match(1, 0.80, 2, 0.75))
    assert (refused.accepted, refused.identity, refused.reason) == (False, None, "ambiguous")
    assert policy.decide(Match(1, 0.80, None, -1.0)).accepted  # a gallery of one


def test_removed_identity_never_matches_while_readers_search(rng):
    """Copy-on-write: a search running during a write sees the old or the new gallery,
    and once remove() has returned no search can return the removed identity."""
    people = unit(rng, 2000)
    gallery = Gallery(range(2000), people)
    probe = people[42]
    removed = threading.Event()
    errors: list[str] = []

    def reader():
        for _ in range(300):
            was_removed = removed.is_set()
            match = gallery.search(probe)
            if was_removed and match.identity == 42:
                errors.append("removed identity matched")
            if match.identity is None:
                errors.append("saw an empty gallery")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(0, 40):
        gallery.replace(1000 + i, unit(rng, 2))
    gallery.remove(42)
    removed.set()
    for t in threads:
        t.join()
    assert not errors
    assert gallery.search(probe).identity != 42


def test_bad_shapes_are_refused(rng):
    with pytest.raises(ValueError):
        Gallery(["a", "b"], unit(rng, 3))


def test_the_threshold_grows_with_the_templates_searched():
    """SFace's policy: 0.55 up to ~3,200 templates, then the score at which N impostor pairs let
    a stranger through with probability 1e-3 (tail fitted on calib: 0.225 - 0.05 log10 FMR)."""
    from justface.face.config import MODEL_POLICIES

    policy = MODEL_POLICIES["sface"]
    assert policy.thresholds(15)[0] == pytest.approx(0.55)
    assert policy.thresholds(3_000)[0] == pytest.approx(0.55)
    assert policy.thresholds(10_000)[0] == pytest.approx(0.575, abs=1e-6)
    assert policy.thresholds(100_000)[0] == pytest.approx(0.625, abs=1e-6)
    assert policy.thresholds(900_000)[0] == pytest.approx(0.225 + 0.05 * np.log10(9e8), abs=1e-6)
    accepts = [policy.thresholds(n)[0] for n in (1, 10, 100, 10**4, 10**5, 10**6)]
    assert accepts == sorted(accepts)
    # The grey zone: from the score 1% of strangers reach (never below 0.40) up to the threshold.
    assert policy.thresholds(15)[1] == pytest.approx(0.40)
    assert policy.thresholds(1_000)[1] == pytest.approx(0.475, abs=1e-6)
    for n in (1, 1_000, 10**6):
        confirm, accept = policy.thresholds(n)[1], policy.thresholds(n)[0]
        assert 0.40 <= confirm <= accept


def test_decisions_in_and_around_the_grey_zone():
    from justface.face.gallery import ScoreTail

    policy = MatchPolicy(0.55, 0.05, tail=ScoreTail(0.225, 0.05), confirm_rate=1e-2, confirm_floor=0.40)

    def decide(score, second=0.0, searched=1_000):
        return policy.decide(Match("ann", score, "bob", second, searched))

    assert decide(0.60).accepted and decide(0.60).reason == "match"
    grey = decide(0.50)
    assert (grey.accepted, grey.reason, grey.proposed, grey.identity, grey.confirm) == (
        False,
        "confirm",
        "ann",
        None,
        True,
    )
    assert decide(0.47).reason == "below_threshold"  # under 0.475 at 1,000 templates
    assert decide(0.50, second=0.47).reason == "ambiguous"  # the margin rule holds in the grey zone too
    # The same score at a chain of 100,000 templates is only grey: the threshold there is 0.625.
    assert decide(0.60, searched=100_000).reason == "confirm"
    # Without a grey zone (FaceNet's policy, or FACE_CONFIRM_RATE=0) nothing is "confirm".
    assert MatchPolicy(0.55, 0.05).decide(Match("ann", 0.50, "bob", 0.0, 1_000)).reason == "below_threshold"


def test_a_search_reports_how_many_templates_it_compared(rng):
    gallery = Gallery(["a", "a", "b"], unit(rng, 3))
    assert gallery.search(unit(rng, 1)[0]).searched == 3

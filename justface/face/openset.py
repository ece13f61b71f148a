"""Open-set evaluation: a gallery of N members facing members and strangers at the door.

The protocol (``split_open_set``), for {identity: (k, d) templates} of a labelled folder:

* people with more than ``enroll`` (K) templates are *eligible members*; ``gallery`` (N), if
  given, caps them at N chosen at random (``seed``); the eligible people not chosen are
  strangers;
* each member's first K templates (file-name order) are enrolled, the rest are *member probes*;
* people with K or fewer templates, the eligible people not chosen, and everyone in the
  optional ``strangers`` set are *strangers*: all their templates are *stranger probes*.

Every probe is matched against the whole gallery at once (one matrix product per block of
probes, best template per identity, top-2 identities per probe with numpy) and the top-2 is
handed, as the production ``Match``, to the production decision ``decide(match) ->
Decision`` (default ``policy.decide``). Outcomes: accepted (as the right member, or as
another: *misidentified*), *confirm* (see ``is_confirm``), or refused.

The DET (``det`` rows and the curve for plots) replays the policy's threshold-and-margin
rule over a range of thresholds with the policy's margin: stranger acceptance rate against
member miss rate (a member probe is missed unless accepted as the right member). It knows
nothing of a confirm zone: it is what a plain threshold would do.

Nothing here assumes a template dimension.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .evaluate import as_matrix, wilson_interval
from .gallery import NO_SCORE, Decision, Match, MatchPolicy

Decide = Callable[[Match], Decision]
STRANGER_TARGETS = {"1e-3": 1e-3, "1e-2": 1e-2}  # stranger acceptance rates the team picks from
DET_THRESHOLDS = np.round(np.arange(0.0, 0.951, 0.01), 2)  # rows of the JSON DET table


def is_confirm(decision: Decision) -> bool:
    """The grey-zone outcome: the door asks the person to confirm (e.g. with
    the PIN) instead of opening or refusing. A ``confirm`` attribute, or reason "confirm"."""
    return bool(getattr(decision, "confirm", False)) or decision.reason == "confirm"


@dataclass(frozen=True)
class OpenSetSplit:
    members: list[str]  # sorted; the gallery's identities
    enrolled: dict[str, np.ndarray]  # member -> (K, d)
    member_probes: dict[str, np.ndarray]  # member -> (k - K, d)
    stranger_probes: dict[str, np.ndarray]  # stranger -> (k, d), FOLDER2's people included
    strangers_by_source: dict[str, int]  # how many stranger *people* came from each rule
    gallery_requested: int | None = None


def split_open_set(
    templates: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    *,
    enroll: int = 1,
    gallery: int | None = None,
    strangers: Mapping[str, np.ndarray | Sequence[np.ndarray]] | None = None,
    seed: int = 0,
) -> OpenSetSplit:
    """Members, their enrollment and probes, and stranger probes (module docstring).

    Raises ValueError for enroll < 1 or gallery < 1, when nobody has more than ``enroll``
    templates, or when a person of ``strangers`` has the name of a person of ``templates``
    (probably the same person: a stranger must not be a member)."""
    if enroll < 1:
        raise ValueError("enroll must be at least 1")
    if gallery is not None and gallery < 1:
        raise ValueError("the gallery must hold at least 1 member")
    mats = {i: as_matrix(t) for i, t in sorted(templates.items())}
    eligible = [i for i, t in mats.items() if len(t) > enroll]
    if not eligible:
        raise ValueError(f"nobody has more than {enroll} photo(s) with a face: no member to enroll")
    extra = {i: as_matrix(t) for i, t in sorted((strangers or {}).items())}
    both = sorted(set(extra) & set(templates))
    if both:
        raise ValueError(
            f"{len(both)} name(s) in both the folder and the strangers folder (e.g. {both[0]}): "
            "a stranger must not be a member"
        )
    if gallery is not None and gallery < len(eligible):
        chosen = np.random.default_rng(seed).choice(len(eligible), size=gallery, replace=False)
        members = sorted(eligible[i] for i in chosen)
    else:
        members = eligible
    member_set = set(members)
    few = {i: t for i, t in mats.items() if len(t) <= enroll and len(t)}
    not_chosen = {i: t for i, t in mats.items() if i in set(eligible) - member_set}
    extra = {i: t for i, t in extra.items() if len(t)}
    return OpenSetSplit(
        members=members,
        enrolled={i: mats[i][:enroll] for i in members},
        member_probes={i: mats[i][enroll:] for i in members},
        stranger_probes={**few, **not_chosen, **extra},
        strangers_by_source={
            "too_few_photos": len(few),
            "not_chosen_for_gallery": len(not_chosen),
            "strangers_folder": len(extra),
        },
        gallery_requested=gallery,
    )


@dataclass(frozen=True)
class Top2:
    """Vectorised ``Gallery.search`` for many probes: per probe the best identity (index
    into the identity list), its score (its best template), the best *other* identity
    (-1 when the gallery has one identity) and its score (NO_SCORE then)."""

    identity: np.ndarray  # (p,) int
    score: np.ndarray  # (p,) float32
    second_identity: np.ndarray  # (p,) int, -1 = none
    second_score: np.ndarray  # (p,) float32
    searched: int = 0  # gallery templates each probe was compared with

    def match(self, k: int, names: Sequence[Hashable]) -> Match:
        second = int(self.second_identity[k])
        return Match(
            identity=names[int(self.identity[k])],
            score=float(self.score[k]),
            second_identity=names[second] if second >= 0 else None,
            second_score=float(self.second_score[k]) if second >= 0 else NO_SCORE,
            searched=self.searched,
        )

    @property
    def margin(self) -> np.ndarray:
        """As ``Match.margin`` computes it (float64 difference of the two float scores)."""
        return self.score.astype(np.float64) - self.second_score.astype(np.float64)


def top2_search(
    gallery: np.ndarray,
    labels: np.ndarray,
    probes: np.ndarray,
    *,
    max_block_bytes: int = 64 << 20,
    progress: bool | None = False,
) -> Top2:
    """Top-2 identities of every probe: ``gallery`` (n, d) templates with ``labels`` (n,)
    identity indices 0..m-1 (every index present; several rows per identity allowed),
    ``probes`` (p, d). One matrix product per block of probes (block sized so the score
    matrix stays under ``max_block_bytes``), best row per identity by ``np.maximum.reduceat``
    over rows sorted by identity, then the best and second-best identity per probe."""
    gallery = as_matrix(gallery)
    probes = as_matrix(probes)
    labels = np.asarray(labels, dtype=np.int64)
    if len(gallery) == 0 or len(labels) != len(gallery):
        raise ValueError(f"{len(labels)} labels for {len(gallery)} gallery templates")
    order = np.argsort(labels, kind="stable")
    sorted_rows = np.ascontiguousarray(gallery[order])
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    identities = sorted_labels[starts]  # identity index of each reduced column
    p = len(probes)
    out_id = np.empty(p, np.int64)
    out_score = np.empty(p, np.float32)
    out_second = np.full(p, -1, np.int64)
    out_second_score = np.full(p, NO_SCORE, np.float32)
    block = max(1, max_block_bytes // (4 * max(len(sorted_rows), 1) * 2))
    from tqdm import tqdm

    for start in tqdm(
        range(0, p, block), desc="open-set search", unit="block", disable=None if progress is None else not progress
    ):
        scores = probes[start : start + block] @ sorted_rows.T
        per_identity = np.maximum.reduceat(scores, starts, axis=1) if len(starts) < len(sorted_rows) else scores
        rows = np.arange(len(per_identity))
        best = per_identity.argmax(axis=1)
        out_id[start : start + block] = identities[best]
        out_score[start : start + block] = per_identity[rows, best]
        if per_identity.shape[1] > 1:
            per_identity[rows, best] = -np.inf
            second = per_identity.argmax(axis=1)
            out_second[start : start + block] = identities[second]
            out_second_score[start : start + block] = per_identity[rows, second]
    return Top2(out_id, out_score, out_second, out_second_score, searched=len(gallery))


@dataclass
class OpenSetResult:
    """``report``: the JSON-able figures (the ``open_set`` key of ``evaluate_faces --json``).
    ``member_scores`` / ``stranger_scores``: per probe, the score the DET thresholds (the best
    score when the policy's margin rule passes, and for members only when the best identity
    is right; else -inf, never accepted), to draw with ``plots.plot_det`` as a (genuine,
    impostor) curve. ``decisions``: the production decision of each member probe, then of
    each stranger probe (in ``split`` order)."""

    report: dict[str, Any]
    member_scores: np.ndarray
    stranger_scores: np.ndarray
    split: OpenSetSplit
    decisions: list[Decision] = field(repr=False, default_factory=list)

    @property
    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        return self.member_scores, self.stranger_scores


def open_set(
    templates: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    policy: MatchPolicy,
    *,
    enroll: int = 1,
    gallery: int | None = None,
    strangers: Mapping[str, np.ndarray | Sequence[np.ndarray]] | None = None,
    seed: int = 0,
    decide: Decide | None = None,
    progress: bool | None = False,
) -> OpenSetResult:
    """Open-set figures at gallery size N with the production decision.

    ``decide`` (default ``policy.decide``) decides each probe from its ``Match``; ``policy``
    gives the margin for the DET rows and curve, and is reported. See the module docstring
    for the protocol and ``split_open_set`` for the ValueErrors."""
    split = split_open_set(templates, enroll=enroll, gallery=gallery, strangers=strangers, seed=seed)
    decide = decide or policy.decide
    names = split.members
    index = {name: n for n, name in enumerate(names)}
    gallery_rows = np.concatenate([split.enrolled[m] for m in names])
    gallery_labels = np.repeat(np.arange(len(names)), [len(split.enrolled[m]) for m in names])
    member_probe_sets = [split.member_probes[m] for m in names]
    truth = np.repeat(np.arange(len(names)), [len(t) for t in member_probe_sets])
    stranger_sets = list(split.stranger_probes.values())
    dim = gallery_rows.shape[1]
    probes = np.concatenate(member_probe_sets + stranger_sets).reshape(-1, dim)
    top = top2_search(gallery_rows, gallery_labels, probes, progress=progress)

    n_members = len(truth)
    decisions = [decide(top.match(k, names)) for k in range(len(probes))]
    confirm = np.array([is_confirm(d) for d in decisions], dtype=bool)
    accepted = np.array([bool(d.accepted) for d in decisions], dtype=bool) & ~confirm
    decided_as = np.array([index.get(d.identity, -1) if d.accepted else -1 for d in decisions], dtype=np.int64)
    confirm_as = np.array(
        [index.get(d.identity if d.identity is not None else d.match.identity, -1) for d in decisions],
        dtype=np.int64,
    )
    m_acc, s_acc = accepted[:n_members], accepted[n_members:]
    m_conf, s_conf = confirm[:n_members], confirm[n_members:]
    right = decided_as[:n_members] == truth
    counts = {
        "gallery_size": len(names),
        "member_probes": int(n_members),
        "members_accepted": int((m_acc & right).sum()),
        "members_confirm": int(m_conf.sum()),
        "members_confirm_as_other": int((m_conf & (confirm_as[:n_members] != truth)).sum()),
        "misidentified": int((m_acc & ~right).sum()),
        "stranger_probes": int(len(probes) - n_members),
        "strangers_accepted": int(s_acc.sum()),
        "strangers_confirm": int(s_conf.sum()),
    }
    counts["members_refused"] = (
        counts["member_probes"] - counts["members_accepted"] - counts["members_confirm"] - counts["misidentified"]
    )
    counts["strangers_refused"] = counts["stranger_probes"] - counts["strangers_accepted"] - counts["strangers_confirm"]

    margin_ok = top.margin >= policy.margin
    best = top.score.astype(np.float64)
    member_scores = np.where(margin_ok[:n_members] & (top.identity[:n_members] == truth), best[:n_members], -np.inf)
    stranger_scores = np.where(margin_ok[n_members:], best[n_members:], -np.inf)
    wrong_scores = np.where(margin_ok[:n_members] & (top.identity[:n_members] != truth), best[:n_members], -np.inf)

    report: dict[str, Any] = {
        "protocol": {
            "enroll": enroll,
            "gallery_requested": gallery,
            "seed": seed,
            "stranger_identities": len(split.stranger_probes),
            "strangers_by_source": split.strangers_by_source,
        },
        "policy": {
            "threshold": policy.threshold,
            "margin": policy.margin,
            "decide": _name(decide, policy),
            # What the policy's rules make of this gallery's size (templates searched).
            "accept_threshold": policy.thresholds(top.searched)[0],
            "confirm_threshold": policy.thresholds(top.searched)[1],
            "templates_searched": top.searched,
        },
        **counts,
    }
    for key, total in (
        ("members_accepted", "member_probes"),
        ("members_confirm", "member_probes"),
        ("misidentified", "member_probes"),
        ("members_refused", "member_probes"),
        ("strangers_accepted", "stranger_probes"),
        ("strangers_confirm", "stranger_probes"),
        ("strangers_refused", "stranger_probes"),
    ):
        report[f"{key}_rate"] = counts[key] / counts[total] if counts[total] else None
    report["members_accepted_ci95"] = _ci(counts["members_accepted"], counts["member_probes"])
    report["strangers_accepted_ci95"] = _ci(counts["strangers_accepted"], counts["stranger_probes"])
    report["det"] = det_rows(member_scores, stranger_scores, wrong_scores, DET_THRESHOLDS)
    report["members_admitted_at_strangers"] = {
        key: members_at_stranger_rate(member_scores, stranger_scores, wrong_scores, rate)
        for key, rate in STRANGER_TARGETS.items()
    }
    report["stranger_rate_floor"] = 1 / counts["stranger_probes"] if counts["stranger_probes"] else None
    return OpenSetResult(report, member_scores, stranger_scores, split, decisions)


def det_rows(
    member_scores: np.ndarray,
    stranger_scores: np.ndarray,
    wrong_scores: np.ndarray,
    thresholds: np.ndarray,
) -> list[dict[str, Any]]:
    """One row per threshold: stranger acceptance rate, member miss rate, misidentified count."""
    ms, ss, ws = (np.sort(a) for a in (member_scores, stranger_scores, wrong_scores))
    rows = []
    for t in thresholds:
        missed = int(np.searchsorted(ms, t, side="left"))
        strangers_in = int(len(ss) - np.searchsorted(ss, t, side="left"))
        rows.append(
            {
                "threshold": float(t),
                "strangers_accepted": strangers_in,
                "strangers_accepted_rate": strangers_in / len(ss) if len(ss) else None,
                "members_missed_rate": missed / len(ms) if len(ms) else None,
                "misidentified": int(len(ws) - np.searchsorted(ws, t, side="left")),
            }
        )
    return rows


def members_at_stranger_rate(
    member_scores: np.ndarray, stranger_scores: np.ndarray, wrong_scores: np.ndarray, rate: float
) -> dict[str, Any] | None:
    """The lowest threshold (with the policy's margin) letting in at most ``rate`` of the
    stranger probes, and the members accepted there; None without strangers or members."""
    if not len(stranger_scores) or not len(member_scores):
        return None
    ranked = np.sort(stranger_scores)[::-1]
    allowed = int(np.floor(rate * len(ranked)))
    if allowed >= len(ranked) or not np.isfinite(ranked[allowed]):
        threshold = NO_SCORE  # fewer strangers pass the margin rule than allowed: any threshold
    else:
        threshold = float(np.nextafter(ranked[allowed], np.inf))
    strangers_in = int((stranger_scores >= threshold).sum())
    members_in = int((member_scores >= threshold).sum())
    return {
        "threshold": threshold,
        "strangers_accepted": strangers_in,
        "strangers_accepted_rate": strangers_in / len(stranger_scores),
        "members_accepted": members_in,
        "members_accepted_rate": members_in / len(member_scores),
        "misidentified": int((wrong_scores >= threshold).sum()),
        "measurable": allowed >= 1,  # below 1/strangers the "rate" is just "none let in"
    }


def _ci(successes: int, trials: int) -> list[float] | None:
    interval = wilson_interval(successes, trials)
    return list(interval) if interval else None


def _name(decide: Decide, policy: MatchPolicy) -> str:
    if getattr(decide, "__self__", None) is policy:
        return "policy.decide"
    return getattr(decide, "__qualname__", type(decide).__name__)


def format_open_set(report: Mapping[str, Any]) -> str:
    """The text report's open-set section."""
    r = report
    pol, proto = r["policy"], r["protocol"]
    lines = [
        f"Open set: gallery of {r['gallery_size']} members ({proto['enroll']} enrolled photo(s) each"
        + (f", {proto['gallery_requested']} requested, seed {proto['seed']}" if proto["gallery_requested"] else "")
        + f"), {proto['stranger_identities']} strangers; threshold {pol['threshold']:.3f}, margin {pol['margin']:.3f}"
        + ("" if pol["decide"] == "policy.decide" else f", decision {pol['decide']}"),
        f"  member probes {r['member_probes']}: accepted {r['members_accepted']} ({_pct(r['members_accepted_rate'])}, "
        f"95% CI {_ci_text(r['members_accepted_ci95'])}), confirm {r['members_confirm']}, "
        f"refused {r['members_refused']}, accepted as another member {r['misidentified']}",
    ]
    if r["stranger_probes"]:
        lines.append(
            f"  stranger probes {r['stranger_probes']}: accepted {r['strangers_accepted']} "
            f"({_pct(r['strangers_accepted_rate'])}, 95% CI {_ci_text(r['strangers_accepted_ci95'])}), "
            f"confirm {r['strangers_confirm']}"
        )
        for key, label in (("1e-3", "0.1%"), ("1e-2", "1%")):
            at = r["members_admitted_at_strangers"][key]
            if at:
                lines.append(
                    f"  strangers <= {label}: threshold {at['threshold']:.4f} "
                    f"admits {_pct(at['members_accepted_rate'])} "
                    f"of members ({at['strangers_accepted']} strangers, {at['misidentified']} misidentified)"
                    + ("" if at["measurable"] else f" [below 1/{r['stranger_probes']}: not measurable]")
                )
        shown = [row for row in r["det"] if round(row["threshold"] * 100) % 5 == 0 and 0.3 <= row["threshold"] <= 0.8]
        lines.append(f"  DET with margin {pol['margin']:.2f}: threshold: strangers accepted / members missed")
        lines += [
            f"    {row['threshold']:.2f}: {_pct(row['strangers_accepted_rate'])} ({row['strangers_accepted']}) / "
            f"{_pct(row['members_missed_rate'])}"
            for row in shown
        ]
    else:
        lines.append("  no stranger probes: use --gallery N or --strangers FOLDER to measure strangers")
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def _ci_text(ci: Sequence[float] | None) -> str:
    return "n/a" if ci is None else f"{ci[0]:.3%}-{ci[1]:.3%}"

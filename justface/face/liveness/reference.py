""" "Clearly live" per camera: the passive cues of a frame, a door's live reference, and how a
door learns its camera from the entries that passed the challenge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def logit(p: float) -> float:
    p = min(max(float(p), 1e-7), 1 - 1e-7)
    return float(np.log(p / (1 - p)))


@dataclass(frozen=True)
class Cues:
    """What the passive check measures on one face (scores only: nothing of the face itself)."""

    p_real: float  # MiniFASNetV2's softmax[1]
    fft: float  # fft_ratio

    @property
    def v2(self) -> float:
        """The net's score as a logit: comparable near 1.0, where one camera's live frames sit."""
        return logit(self.p_real)

    def as_record(self) -> dict:
        return {"p_real": round(self.p_real, 6), "v2": round(self.v2, 4), "fft": round(self.fft, 4)}

    @classmethod
    def from_record(cls, record: dict) -> Cues | None:
        """From ``as_record``: p_real from the logit, which keeps the precision near 1.0."""
        try:
            return cls(float(1 / (1 + np.exp(-float(record["v2"])))), float(record["fft"]))
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def median(cls, cues: Sequence[Cues]) -> Cues:
        """A burst's cues: the median frame of each cue (one odd frame moves neither)."""
        return cls(float(np.median([c.p_real for c in cues])), float(np.median([c.fft for c in cues])))


@dataclass(frozen=True)
class LiveReference:
    """A door's idea of "clearly live": a frame is clearly live when BOTH cues are above these
    cuts (``v2`` a logit of p_real, ``fft`` the frequency cue)."""

    v2: float
    fft: float

    def clearly_live(self, cues: Cues) -> bool:
        return cues.v2 > self.v2 and cues.fft > self.fft

    def as_record(self) -> dict:
        return {"v2": self.v2, "fft": self.fft}  # unrounded: a cut must find its own value again

    @classmethod
    def from_record(cls, record: dict | None) -> LiveReference | None:
        try:
            return cls(float(record["v2"]), float(record["fft"]))
        except (KeyError, TypeError, ValueError):
            return None


# A door's cuts are the LIVE_QUANTILE of its camera's live frames (each cue): about twice that
# share of members is challenged. Measured on pad/dev + dev2 by source, cross-validated by
# subject: 0.10 lets in 1 of 167 print frames and 0 of 106 replays unchallenged and challenges
# 24% of live frames (docs/face-engine.md, *Liveness*).
LIVE_QUANTILE = 0.10
# Before a door has learned its camera: above every attack of pad/dev + dev2 (highest: a replay
# at v2 11.6 whose fft is -3.3, a print at v2 8.3); 94% of their live frames are challenged.
DEFAULT_REFERENCE = LiveReference(v2=10.0, fft=-2.4)
# However a door learns, its cuts never go below these (p_real 0.27).
FLOOR_REFERENCE = LiveReference(v2=-1.0, fft=-3.5)


def reference_quantile(values: Sequence[float], q: float = LIVE_QUANTILE) -> float:
    """The cut below which ``q`` of ``values`` lie: a value is above the cut when at least
    ceil(q n) of ``values`` are strictly below it."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    k = max(int(np.ceil(q * len(ordered))), 1)
    return float(ordered[k - 1])


def reference_from_live(samples: Sequence[Cues], q: float = LIVE_QUANTILE) -> LiveReference:
    """The reference of a camera from its own live frames (every frame known)."""
    if not samples:
        return DEFAULT_REFERENCE
    return LiveReference(
        v2=reference_quantile([c.v2 for c in samples], q), fft=reference_quantile([c.fft for c in samples], q)
    )


@dataclass(frozen=True)
class CalibrationRules:
    """How a door learns its camera (access.liveness.recalibrate): from the door's own entries,
    slowly, from frames that passed the head-turn challenge only, each member a bounded share."""

    quantile: float = LIVE_QUANTILE
    min_entries: int = 50  # granted face entries in the window before the cuts move at all
    window: int = 400  # the most recent granted face entries looked at
    member_share: int = 3  # entries of one member in the window, at most (an attacker is one member)
    step_v2: float = 0.5  # largest move of a cut at one recalibration (logit)...
    step_fft: float = 0.05  # ...(frequency cue)
    floor: LiveReference = FLOOR_REFERENCE
    default: LiveReference = DEFAULT_REFERENCE


def calibrate(
    current: LiveReference, challenged: Sequence[Cues], entries: int, rules: CalibrationRules = CalibrationRules()
) -> LiveReference:
    """One slow step of a door's reference towards its camera. ``challenged``: the cues of the
    window's entries granted after passing the challenge; ``entries``: all granted face entries
    in the window (challenged or not). Every entry whose cue is below the current cut was
    challenged, so the lower tail is fully seen: the cut's target is the value with
    ceil(q x entries) challenged frames below it, when that lies below the current cut; otherwise
    too few entries are below the cut and it moves up. Each cut moves at most one step, and
    never below the floor nor above the default."""
    if entries < rules.min_entries:
        return current
    k = max(int(np.ceil(rules.quantile * entries)), 1)

    def move(cut: float, values: list[float], step: float, floor: float, ceiling: float) -> float:
        ordered = sorted(values)
        target = ordered[k - 1] if len(ordered) >= k and ordered[k - 1] <= cut else cut + step
        return float(min(max(cut + float(np.clip(target - cut, -step, step)), floor), ceiling))

    return LiveReference(
        v2=move(current.v2, [c.v2 for c in challenged], rules.step_v2, rules.floor.v2, rules.default.v2),
        fft=move(current.fft, [c.fft for c in challenged], rules.step_fft, rules.floor.fft, rules.default.fft),
    )

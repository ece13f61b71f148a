"""In-memory 1:N matching: a matrix of templates, top-2 identity search, threshold + margin.

A ``Gallery`` is safe to search from many threads while one thread writes: every write
builds new arrays and swaps one reference (copy-on-write), so a search sees either the old
or the new gallery, never a half-updated one. Writes cost one copy of the matrix (about
40 ms at 100k templates); batch them with ``patch``. Identity ids are any hashable
(e.g. a member pk); an identity may hold several templates and counts once, with its best.

A gallery holds templates of one model only: its width is fixed by the first templates it
gets (512 for FaceNet, 128 for SFace), and a template of another width is refused, never
compared (scores across models mean nothing).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

DIM = 512  # FaceNet's width; galleries take theirs from their templates
NO_SCORE = -1.0  # cosine similarity floor: the score of "nobody"


@dataclass(frozen=True)
class Match:
    """Top-2 identities for one probe. ``identity`` is None when the gallery is empty."""

    identity: Hashable | None
    score: float
    second_identity: Hashable | None
    second_score: float
    searched: int = 0  # templates compared: each is one chance for a stranger to match

    @property
    def margin(self) -> float:
        return self.score - self.second_score


@dataclass(frozen=True)
class Decision:
    accepted: bool
    identity: Hashable | None  # set only when accepted
    reason: str  # "match", "confirm", "below_threshold" or "ambiguous"
    match: Match
    proposed: Hashable | None = None  # "confirm": the member whose PIN would confirm

    @property
    def confirm(self) -> bool:
        return self.reason == "confirm"


@dataclass(frozen=True)
class ScoreTail:
    """A model's impostor-score tail, fitted on calibration data as
    ``threshold(FMR) = intercept - slope * log10(FMR)``: the score one impostor pair reaches
    with probability FMR (docs/face-engine.md, *Thresholds that grow with the gallery*)."""

    intercept: float
    slope: float

    def threshold_at(self, fmr: float) -> float:
        return self.intercept - self.slope * math.log10(fmr)


@dataclass(frozen=True)
class MatchPolicy:
    """Accept the best identity only if its score reaches the threshold AND it beats the
    second-best identity by at least ``margin`` (look-alikes and relatives are refused
    rather than guessed between).

    A stranger searched against N templates has N chances to match one, so with a fitted
    ``tail`` the threshold rises with the number of templates searched: it is the score at
    which N impostor pairs admit a stranger with probability ``stranger_rate``, never below
    ``threshold``. With ``confirm_rate``, a best match between the score that lets that share
    of strangers through and the threshold is neither accepted nor refused: the decision is
    ``confirm``, and the door asks the proposed member's PIN (``confirm_floor`` bounds it)."""

    threshold: float
    margin: float
    tail: ScoreTail | None = None
    stranger_rate: float = 1e-3
    confirm_rate: float = 0.0  # 0: no grey zone
    confirm_floor: float = 0.0

    def thresholds(self, searched: int) -> tuple[float, float]:
        """(accept, confirm) thresholds for a gallery of ``searched`` templates; confirm equals
        accept when there is no grey zone."""
        accept = self.threshold
        if self.tail is not None and searched > 0:
            accept = max(accept, self.tail.threshold_at(self.stranger_rate / searched))
        if not self.confirm_rate:
            return accept, accept
        confirm = self.confirm_floor
        if self.tail is not None and searched > 0:
            confirm = max(confirm, self.tail.threshold_at(self.confirm_rate / searched))
        return accept, min(confirm, accept)

    def decide(self, match: Match) -> Decision:
        accept, confirm = self.thresholds(match.searched)
        if match.identity is None or match.score < confirm:
            return Decision(False, None, "below_threshold", match)
        if match.margin < self.margin:
            return Decision(False, None, "ambiguous", match)
        if match.score < accept:
            return Decision(False, None, "confirm", match, proposed=match.identity)
        return Decision(True, match.identity, "match", match)


@dataclass(frozen=True)
class _Snapshot:
    matrix: np.ndarray  # (n, dim) float32, read-only
    labels: np.ndarray  # (n,) int32 index into identities
    identities: tuple[Hashable, ...]

    @classmethod
    def build(cls, ids: Sequence[Hashable], matrix: np.ndarray) -> _Snapshot:
        order: dict[Hashable, int] = {}
        labels = np.fromiter((order.setdefault(i, len(order)) for i in ids), np.int32, len(ids))
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"templates must be a (n, dim) matrix, not shape {matrix.shape}")
        if len(labels) != len(matrix):
            raise ValueError(f"{len(labels)} identity ids for {len(matrix)} templates")
        matrix.flags.writeable = False
        return cls(matrix, labels, tuple(order))

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def row_ids(self) -> list[Hashable]:
        return [self.identities[i] for i in self.labels]


class Gallery:
    def __init__(self, ids: Sequence[Hashable] = (), templates: np.ndarray | None = None, *, dim: int | None = None):
        """``dim``: the template width, when there are no templates yet to tell it (an empty
        gallery without one takes the width of the first templates added)."""
        if templates is None:
            matrix = np.empty((0, dim or 0), np.float32)
        else:
            matrix = np.asarray(templates, dtype=np.float32)
            matrix = matrix.reshape(len(matrix), -1) if matrix.size else matrix.reshape(0, dim or 0)
        self._snap = _Snapshot.build(list(ids), matrix)
        if dim is not None and self._snap.dim not in (0, dim):
            raise ValueError(f"templates of width {self._snap.dim} for a gallery of width {dim}")
        self._write = threading.Lock()

    def __len__(self) -> int:
        return len(self._snap.labels)

    @property
    def identities(self) -> tuple[Hashable, ...]:
        return self._snap.identities

    @property
    def dim(self) -> int:
        """Template width (0: not known yet)."""
        return self._snap.dim

    @property
    def nbytes(self) -> int:
        return self._snap.matrix.nbytes + self._snap.labels.nbytes

    def search(self, template: np.ndarray) -> Match:
        """Best and second-best *identity* for one L2-normalised template."""
        snap = self._snap  # one read: the whole search uses one consistent snapshot
        probe = np.asarray(template, dtype=np.float32).reshape(-1)
        if snap.dim and probe.shape[0] != snap.dim:
            raise ValueError(f"a template of width {probe.shape[0]} searched in a gallery of width {snap.dim}")
        if not len(snap.labels):
            return Match(None, NO_SCORE, None, NO_SCORE)
        scores = snap.matrix @ probe
        best = int(scores.argmax())
        best_label = snap.labels[best]
        # The second identity is the best row of any *other* identity: no per-identity
        # reduction needed, two passes over n floats.
        others = np.where(snap.labels != best_label, scores, NO_SCORE)
        second = int(others.argmax())
        has_second = snap.labels[second] != best_label
        return Match(
            identity=snap.identities[best_label],
            score=float(scores[best]),
            second_identity=snap.identities[snap.labels[second]] if has_second else None,
            second_score=float(others[second]) if has_second else NO_SCORE,
            searched=len(snap.labels),
        )

    def add(self, identity: Hashable, template: np.ndarray) -> None:
        self.patch(add=[(identity, template)])

    def add_many(self, ids: Sequence[Hashable], templates: np.ndarray) -> None:
        rows = np.asarray(templates, dtype=np.float32)
        self.patch(add=zip(ids, rows.reshape(len(rows), -1)))

    def remove(self, identity: Hashable) -> None:
        """Remove every template of ``identity`` (no error if it has none)."""
        self.patch(remove=[identity])

    def replace(self, identity: Hashable, templates: np.ndarray) -> None:
        """Set the templates of ``identity`` to exactly ``templates`` (may be empty)."""
        rows = np.asarray(templates, dtype=np.float32)
        self.patch(remove=[identity], add=[(identity, t) for t in rows.reshape(len(rows), -1)])

    def patch(
        self,
        remove: Iterable[Hashable] = (),
        add: Iterable[tuple[Hashable, np.ndarray]] = (),
    ) -> None:
        """Remove identities, then add (identity, template) rows, in one atomic swap."""
        gone = set(remove)
        new = list(add)
        with self._write:
            snap = self._snap
            keep = np.ones(len(snap.labels), dtype=bool)
            if gone:
                dropped = [i for i, ident in enumerate(snap.identities) if ident in gone]
                keep = ~np.isin(snap.labels, dropped)
            ids = [ident for ident, k in zip(snap.row_ids(), keep) if k]
            ids += [ident for ident, _ in new]
            rows = [np.asarray(t, np.float32).reshape(1, -1) for _, t in new]
            dim = snap.dim or (rows[0].shape[1] if rows else 0)
            if any(r.shape[1] != dim for r in rows):
                raise ValueError(f"templates of another width added to a gallery of width {dim}")
            kept = snap.matrix[keep] if snap.dim == dim else np.empty((0, dim), np.float32)
            self._snap = _Snapshot.build(ids, np.concatenate([kept, *rows]))

    def copy(self) -> Gallery:
        """A gallery of its own; snapshots are immutable, so it starts shared."""
        copy = Gallery(dim=self.dim)
        copy._snap = self._snap
        return copy

    def rows(self) -> tuple[list[Hashable], np.ndarray]:
        """(identity of each row, the (n, dim) float32 matrix), read-only."""
        snap = self._snap
        return snap.row_ids(), snap.matrix

    def without(self, identity: Hashable) -> Gallery:
        """A copy without ``identity``."""
        copy = self.copy()
        copy.remove(identity)
        return copy

"""Galleries for large chains: one read-only copy per machine, plus each process's recent changes.

A chain of 300,000 members holds ~900,000 templates. Kept as float32 in every web process, that
is 460 MB per process for SFace, and every change used to cost each process a pass over all of
them. Here instead:

* a **snapshot** is the chain's templates at one gallery version, in half precision, in a
  faiss ``IndexScalarQuantizer`` (fp16, inner product) written to a node-local directory
  (tmpfs by default). Every process of the machine maps the same file read-only
  (``IO_FLAG_MMAP_IFC``), so the machine holds it once. Half precision moves a cosine score by
  less than 1e-3 (measured in ``bench/gallery_scale.py``) and halves the bytes each search reads;
  faiss's SIMD kernels search 900k fp16 templates in ~11 ms on one core.
* a **layered gallery** is what a process searches: a snapshot minus the members changed since,
  plus those members' current templates (a small float32 ``Gallery``). Applying a change touches
  only the changed members, whatever the gallery's size.
* **compaction** folds the changes into a new snapshot (from memory, no database read) once they
  are many or old; the old file is unlinked and its memory goes when the last process lets go.

No Django here: the caller supplies the rows and the versions.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from justface.face.gallery import NO_SCORE, Gallery, Match

# One thread per search: the door runs many searches at once, and OpenMP's idle threads spin
# (the same lesson as ONNX Runtime's pools, docs/face-engine.md). OpenMP keeps the thread count
# per thread, so every thread that calls faiss sets it (gunicorn's request threads included).
_omp = threading.local()


def _one_thread() -> None:
    if not getattr(_omp, "set", False):
        faiss.omp_set_num_threads(1)
        _omp.set = True


_CHUNK = 65536  # rows decoded at a time when folding changes into a new snapshot


def build_index(matrix: np.ndarray) -> faiss.Index:
    """A half-precision inner-product index of ``matrix``'s rows (row i has faiss id i)."""
    _one_thread()
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    index = faiss.IndexScalarQuantizer(matrix.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    index.train(matrix[:1] if len(matrix) else np.zeros((1, matrix.shape[1]), np.float32))  # fp16 has no parameters
    for start in range(0, len(matrix), _CHUNK):
        index.add(matrix[start : start + _CHUNK])
    return index


@dataclass(frozen=True)
class Snapshot:
    """A gallery at one version: ``ids[i]`` is the identity (an int, e.g. a member pk) of row i.
    Rows are sorted by identity, so one identity's rows are one slice."""

    version: int
    index: faiss.Index
    ids: np.ndarray  # int64, sorted
    per_identity: int  # the most rows any identity has: top (per_identity + 1) rows hold two identities

    @classmethod
    def from_rows(cls, version: int, ids: np.ndarray, matrix: np.ndarray, dim: int) -> Snapshot:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        matrix = np.asarray(matrix, dtype=np.float32).reshape(len(ids), dim)
        order = np.argsort(ids, kind="stable")
        ids, matrix = ids[order], matrix[order]
        return cls(version, build_index(matrix), ids, _most_per_identity(ids))

    @property
    def dim(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of(self, identities: np.ndarray) -> np.ndarray:
        """Row numbers of every row of ``identities`` (cost: log n per identity)."""
        identities = np.asarray(identities, dtype=np.int64)
        lo = np.searchsorted(self.ids, identities, side="left")
        hi = np.searchsorted(self.ids, identities, side="right")
        if not len(identities) or not (hi > lo).any():
            return np.empty(0, np.int64)
        return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in zip(lo, hi) if b > a])

    def top(self, probe: np.ndarray, exclude: faiss.SearchParameters | None) -> list[tuple[int, float]]:
        """Best row of the best two identities, as (identity, score), skipping excluded rows."""
        if not len(self.ids):
            return []
        _one_thread()
        k = min(self.per_identity + 1, len(self.ids))
        scores, rows = self.index.search(probe.reshape(1, -1), k, params=exclude)
        found: list[tuple[int, float]] = []
        for row, score in zip(rows[0], scores[0]):
            if row < 0:
                break
            identity = int(self.ids[row])
            if not found or found[0][0] != identity:
                found.append((identity, float(score)))
            if len(found) == 2:
                break
        return found

    def decoded(self, keep: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, float32 rows) of the rows where ``keep`` is true, a chunk at a time."""
        _one_thread()
        for start in range(0, len(self.ids), _CHUNK):
            stop = min(start + _CHUNK, len(self.ids))
            mask = keep[start:stop]
            if mask.any():
                yield self.ids[start:stop][mask], self.index.reconstruct_n(start, stop - start)[mask]


def _most_per_identity(ids: np.ndarray) -> int:
    """The longest run of one identity in sorted ``ids`` (one pass, no sort: runs on every map)."""
    if not len(ids):
        return 1
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    return int(np.diff(starts).max())


@dataclass(frozen=True)
class LayeredGallery:
    """A snapshot minus ``changed`` identities, plus their current rows in ``recent``. Immutable:
    ``apply`` returns a new one, so a search always sees one consistent state."""

    base: Snapshot
    changed: frozenset = frozenset()
    recent: Gallery = field(default_factory=Gallery)
    _exclude: faiss.SearchParameters | None = None
    _excluded_rows: int = 0

    @classmethod
    def on(cls, base: Snapshot) -> LayeredGallery:
        return cls(base, recent=Gallery(dim=base.dim))

    @classmethod
    def empty(cls, dim: int) -> LayeredGallery:
        return cls.on(Snapshot.from_rows(0, np.empty(0, np.int64), np.empty((0, dim), np.float32), dim))

    @property
    def version(self) -> int:
        return self.base.version

    @property
    def identities(self) -> tuple[int, ...]:
        """Every identity with a row, in order (reads the whole id list: for tests and tools)."""
        kept = set(np.unique(np.asarray(self.base.ids)).tolist()) - self.changed
        return tuple(sorted(kept | set(self.recent.identities)))

    @property
    def dim(self) -> int:
        return self.base.dim

    def __len__(self) -> int:
        return len(self.base) - self._excluded_rows + len(self.recent)

    @property
    def pending(self) -> int:
        """Identities changed since the snapshot (what compaction would fold in)."""
        return len(self.changed)

    def apply(self, current: Mapping[int, np.ndarray]) -> LayeredGallery:
        """The gallery after ``current[identity]`` became that identity's whole set of rows (an
        empty array: the identity is gone). Cost grows with the identities changed, not with
        the gallery."""
        if not current:
            return self
        changed = self.changed | frozenset(int(i) for i in current)
        recent = self.recent.copy()
        add = [
            (int(i), row) for i, rows in current.items() for row in np.asarray(rows, np.float32).reshape(-1, self.dim)
        ]
        recent.patch(remove=[int(i) for i in current], add=add)
        rows = self.base.rows_of(np.fromiter(changed, np.int64, len(changed)))
        exclude = None
        if len(rows):
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(rows))
            exclude = faiss.SearchParameters(sel=selector)
            exclude._keep = selector  # the Python objects must outlive the C++ pointers
        return LayeredGallery(self.base, changed, recent, exclude, len(rows))

    def search(self, template: np.ndarray) -> Match:
        probe = np.ascontiguousarray(template, dtype=np.float32).reshape(-1)
        if probe.shape[0] != self.dim:
            raise ValueError(f"a template of width {probe.shape[0]} searched in a gallery of width {self.dim}")
        candidates = self.base.top(probe, self._exclude)
        near = self.recent.search(probe)
        for identity, score in ((near.identity, near.score), (near.second_identity, near.second_score)):
            if identity is not None:
                candidates.append((identity, score))
        candidates.sort(key=lambda c: -c[1])  # identities are distinct: base excludes the changed ones
        if not candidates:
            return Match(None, NO_SCORE, None, NO_SCORE, searched=len(self))
        (best, score), second = candidates[0], candidates[1] if len(candidates) > 1 else (None, NO_SCORE)
        return Match(best, score, second[0], second[1], searched=len(self))

    def folded(self, version: int) -> Snapshot:
        """A new snapshot at ``version`` with the changes folded in, built from memory."""
        keep = np.ones(len(self.base), dtype=bool)
        keep[self.base.rows_of(np.fromiter(self.changed, np.int64, len(self.changed)))] = False
        parts = list(self.base.decoded(keep))
        recent_ids, recent_rows = self.recent.rows()
        parts.append((np.asarray(recent_ids, np.int64), recent_rows))
        ids = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
        matrix = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, self.dim), np.float32)
        return Snapshot.from_rows(version, ids, matrix, self.dim)


_NAME = re.compile(r"^(?P<key>[\w.-]+)\.v(?P<version>\d+)\.faiss$")


class SnapshotStore:
    """The node's snapshots, in a directory every process of the machine shares: for each gallery
    ``key``, ``<key>.v<version>.faiss`` and ``<key>.v<version>.ids.npy``. A snapshot appears
    whole (written aside, then renamed); older versions are unlinked once a newer one exists."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _paths(self, key: str, version: int) -> tuple[Path, Path]:
        return self.root / f"{key}.v{version}.faiss", self.root / f"{key}.v{version}.ids.npy"

    def versions(self, key: str) -> list[int]:
        if not self.root.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.root.iterdir())
        return sorted(int(m["version"]) for m in found if m and m["key"] == key)

    def latest(self, key: str) -> Snapshot | None:
        """The newest whole snapshot of ``key``, mapped read-only (shared with the node's other
        processes); None if there is none (or it vanished under us: the caller builds one)."""
        for version in reversed(self.versions(key)):
            index_path, ids_path = self._paths(key, version)
            try:
                ids = np.load(ids_path, mmap_mode="r")
                index = faiss.read_index(str(index_path), faiss.IO_FLAG_MMAP_IFC)
            except (OSError, RuntimeError, ValueError):
                continue  # unlinked by a newer writer between listing and opening
            return Snapshot(version, index, ids, _most_per_identity(np.asarray(ids)))
        return None

    def write(self, key: str, snapshot: Snapshot) -> Snapshot:
        """Store ``snapshot`` and return it mapped from the store; older versions are unlinked."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        index_path, ids_path = self._paths(key, snapshot.version)
        part = f".part-{os.getpid()}-{threading.get_ident()}"
        with open(f"{ids_path}{part}", "wb") as handle:
            np.save(handle, np.asarray(snapshot.ids, np.int64))
        faiss.write_index(snapshot.index, f"{index_path}{part}")
        os.replace(f"{ids_path}{part}", ids_path)
        os.replace(f"{index_path}{part}", index_path)  # the index last: its name says "whole"
        for old in self.versions(key):
            if old < snapshot.version:
                for path in self._paths(key, old):
                    path.unlink(missing_ok=True)
        return Snapshot(
            snapshot.version,
            faiss.read_index(str(index_path), faiss.IO_FLAG_MMAP_IFC),
            np.load(ids_path, mmap_mode="r"),
            snapshot.per_identity,
        )

    def remove(self, key: str) -> None:
        for version in self.versions(key):
            for path in self._paths(key, version):
                path.unlink(missing_ok=True)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """One builder per gallery per machine: the others wait, then map what it wrote."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.root / f"{key}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

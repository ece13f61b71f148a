"""The machine-wide gallery: a half-precision snapshot plus each process's changes searches like
the exact float32 gallery, forgets removed identities at once, and is shared through files."""

import subprocess
import sys
import threading

import faiss
import numpy as np
import pytest

from justface.face.gallery import Gallery
from justface.face.shared_gallery import LayeredGallery, Snapshot, SnapshotStore
from tests.conftest import REPO

DIM = 128


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def data():
    """3,000 rows of 1,000 identities (three each, like members), in shuffled order."""
    rng = np.random.default_rng(1)
    ids = rng.permutation(np.repeat(np.arange(1, 1001), 3))
    return ids, unit_rows(len(ids), 2)


def probes(rows: np.ndarray, n: int = 40) -> np.ndarray:
    """Near copies of stored rows (a member at the door) and fresh rows (strangers)."""
    near = rows[: n // 2] + 0.05 * unit_rows(n // 2, 3)
    return np.vstack([near / np.linalg.norm(near, axis=1, keepdims=True), unit_rows(n // 2, 4)])


def test_layered_search_matches_the_exact_gallery(data):
    ids, rows = data
    exact, layered = Gallery(ids, rows), LayeredGallery.on(Snapshot.from_rows(1, ids, rows, DIM))
    for probe in probes(rows):
        a, b = exact.search(probe), layered.search(probe)
        assert (a.identity, a.second_identity, a.searched) == (b.identity, b.second_identity, b.searched)
        assert abs(a.score - b.score) < 1e-3 and abs(a.second_score - b.second_score) < 1e-3  # half precision


def test_applied_changes_search_like_a_gallery_rebuilt_from_scratch(data):
    ids, rows = data
    layered = LayeredGallery.on(Snapshot.from_rows(1, ids, rows, DIM))
    gone, replaced, new = int(ids[0]), int(ids[5]), 5000
    fresh = unit_rows(2, 9)
    layered = layered.apply({gone: np.empty((0, DIM)), replaced: fresh[:1]}).apply({new: fresh[1:]})

    keep = (ids != gone) & (ids != replaced)
    exact = Gallery(list(ids[keep]) + [replaced, new], np.vstack([rows[keep], fresh]))
    assert len(layered) == len(exact) == len(ids) - 6 + 2
    assert layered.pending == 3
    for probe in np.vstack([probes(rows), fresh, rows[ids == gone]]):
        a, b = exact.search(probe), layered.search(probe)
        assert (a.identity, a.second_identity, a.searched) == (b.identity, b.second_identity, b.searched)
    for row in rows[ids == gone]:
        assert layered.search(row).identity != gone  # its own row no longer finds it


def test_folding_changes_gives_the_same_answers_from_a_new_snapshot(data):
    ids, rows = data
    layered = LayeredGallery.on(Snapshot.from_rows(1, ids, rows, DIM)).apply(
        {int(ids[0]): np.empty((0, DIM)), 7777: unit_rows(3, 11)}
    )
    folded = LayeredGallery.on(layered.folded(2))
    assert folded.version == 2 and folded.pending == 0 and len(folded) == len(layered)
    assert set(folded.identities) == set(layered.identities) and int(ids[0]) not in folded.identities
    for probe in probes(rows):
        a, b = layered.search(probe), folded.search(probe)
        assert (a.identity, a.second_identity) == (b.identity, b.second_identity)
        assert abs(a.score - b.score) < 1e-6


def test_an_identity_with_many_rows_still_leaves_room_for_a_second(data):
    ids, rows = data
    ids = ids.copy()
    ids[:12] = 42  # one identity with 12 rows, all near each other
    rows = rows.copy()
    rows[:12] = rows[0] + 0.01 * unit_rows(12, 5)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    match = LayeredGallery.on(Snapshot.from_rows(1, ids, rows, DIM)).search(rows[0])
    assert match.identity == 42 and match.second_identity not in (None, 42)


def test_empty_and_wrong_width():
    empty = LayeredGallery.empty(DIM)
    assert len(empty) == 0 and empty.search(unit_rows(1, 1)[0]).identity is None
    with pytest.raises(ValueError, match="width 512"):
        empty.search(np.zeros(512, np.float32))


def test_the_store_shares_one_file_between_processes(tmp_path, data):
    ids, rows = data
    store = SnapshotStore(tmp_path)
    with store.lock("chain1-sface"):
        first = store.write("chain1-sface", Snapshot.from_rows(3, ids, rows, DIM))
    assert store.versions("chain1-sface") == [3] and store.latest("other") is None
    assert not list(tmp_path.glob("*.part-*"))

    # Another process maps the same file and finds the same identity.
    code = (
        f"import numpy as np; from justface.face.shared_gallery import SnapshotStore, LayeredGallery\n"
        f"s = SnapshotStore({str(tmp_path)!r}).latest('chain1-sface')\n"
        f"row = np.asarray(np.load({str(tmp_path / 'row.npy')!r}))\n"
        f"print(s.version, LayeredGallery.on(s).search(row).identity)"
    )
    np.save(tmp_path / "row.npy", rows[10])
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["3", str(ids[10])], out.stderr[-2000:]

    # A newer version replaces the older files; what is mapped here keeps working.
    store.write("chain1-sface", LayeredGallery.on(first).apply({int(ids[10]): np.empty((0, DIM))}).folded(4))
    assert store.versions("chain1-sface") == [4]
    assert LayeredGallery.on(first).search(rows[10]).identity == ids[10]
    assert LayeredGallery.on(store.latest("chain1-sface")).search(rows[10]).identity != ids[10]
    store.remove("chain1-sface")
    assert store.versions("chain1-sface") == []


def test_a_search_from_any_thread_uses_one_openmp_thread(data):
    """OpenMP counts threads per calling thread: a request thread of gunicorn searching with
    faiss's default (every core) would leave idle OpenMP threads spinning beside the door's work."""
    ids, rows = data
    layered, seen = LayeredGallery.on(Snapshot.from_rows(1, ids, rows, DIM)), []

    def request_thread():
        seen.append(faiss.omp_get_max_threads())
        layered.search(rows[0])
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=request_thread)
    thread.start()
    thread.join()
    assert seen[1] == 1

"""Each chain's face gallery: searched in every process, never stale, shared per machine.

Adding or removing templates bumps Chain.gallery_version in the same transaction and records a
GalleryChange step naming the members concerned (``bump_version``). Before every search a process
reads the version (one indexed query); if it moved, the process replays the steps since its own
version, re-reading only those members' templates. So a template whose removal has committed can
never match again, on any worker, from that moment on, and a change costs the same in a gallery
of 1,000 templates as in one of 900,000.

The bulk of a gallery is a snapshot that every process of the machine maps from one file
(justface.face.shared_gallery, in GALLERY_DIR); the steps since are kept per process and folded
into a new snapshot once they are many or old (GALLERY_COMPACT_CHANGES, GALLERY_COMPACT_SECONDS).
Inside a transaction (tests, a view's atomic block) a process builds a private gallery instead, so
nothing uncommitted ever lands in a file other processes read.

A gallery holds the templates of one model (FaceTemplate.model_name): scores of two models are
never compared. While members move from an older model (FACE_MODEL_PREVIOUS), a second gallery
per chain holds that model's templates of the members who have none of the active model yet."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet

from justface import metrics
from justface.face.recognizers import template_width
from justface.face.shared_gallery import LayeredGallery, Snapshot, SnapshotStore
from justface.face_runtime import get_engine
from members.models import Chain, FaceTemplate, GalleryChange

logger = logging.getLogger(__name__)

# Steps further back than this are not replayed: reading the whole gallery is cheaper.
MAX_STEPS = 20_000


@dataclass(frozen=True)
class Identification:
    member_id: int | None  # set only when accepted
    score: float | None  # best similarity, whoever it belonged to
    margin: float | None  # best minus second-best identity
    accepted: bool
    best_member_id: int | None = None  # the closest member even when not accepted (for audit/support)
    confirm: bool = False  # grey zone: best_member_id is proposed, their PIN must confirm


def encode_template(template: np.ndarray) -> str:
    return base64.b64encode(np.asarray(template, dtype=np.float32).tobytes()).decode()


def decode_template(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def bump_version(chain_id: int, member_ids: Iterable[int] | None = None) -> None:
    """Call inside the transaction that adds or removes templates of ``member_ids`` (None: of the
    whole chain). The UPDATE locks the chain's row until commit, so steps commit in version
    order and a committed version means every step up to it has committed too."""
    Chain.objects.filter(pk=chain_id).update(gallery_version=F("gallery_version") + 1)
    version = Chain.objects.filter(pk=chain_id).values_list("gallery_version", flat=True).get()
    members = sorted(set(member_ids or ())) or [None]
    GalleryChange.objects.bulk_create([GalleryChange(chain_id=chain_id, version=version, member_id=m) for m in members])


def purge_changes(*, before) -> int:
    """Steps older than ``before`` (a process that far behind reloads its gallery whole)."""
    return GalleryChange.objects.filter(created_at__lt=before).delete()[0]


def gallery_templates(chain_id: int, model: str, *, unless_model: str = "") -> QuerySet[FaceTemplate]:
    """The chain's templates of ``model``; with ``unless_model``, only those of members who have
    no template of that model (the members the older model must still recognise)."""
    rows = FaceTemplate.objects.filter(member__chain_id=chain_id, model_name=model)
    if unless_model:
        rows = rows.exclude(member__face_templates__model_name=unless_model)
    return rows


def node_store() -> SnapshotStore:
    """This machine's snapshots of this database's galleries (two installations or test runs on
    one machine never share a file)."""
    db = connection.settings_dict
    tag = hashlib.sha256(f"{connection.vendor}:{db['HOST']}:{db['PORT']}:{db['NAME']}".encode()).hexdigest()[:12]
    return SnapshotStore(f"{settings.GALLERY_DIR}/{tag}")


def snapshot_key(chain_id: int, created, model: str, unless_model: str = "") -> str:
    """The name of a chain's gallery snapshots in the node's store (monitoring reads them too)."""
    return f"chain{chain_id}-{int(created.timestamp() * 1e6)}-{model}" + (
        f"-unless-{unless_model}" if unless_model else ""
    )


class _ChainGallery:
    """One chain's gallery of one model in this process: ``view`` reflects ``version``."""

    def __init__(self, chain_id: int, created, model: str, unless_model: str):
        self.chain_id, self.model, self.unless_model = chain_id, model, unless_model
        self.key = snapshot_key(chain_id, created, model, unless_model)
        self.dim = template_width(model)
        self.view: LayeredGallery | None = None
        self.version = -1
        self.shared = False  # view's snapshot is the machine's file (else private to this process)
        self.pending_since = 0.0  # monotonic time of the oldest step not in the snapshot
        self.checked_at = 0.0  # last look for a newer snapshot written by another process
        self.folded: Snapshot | None = None  # a compaction's result, taken in by the next search
        self.compacting = False
        self.lock = threading.Lock()
        self.store = node_store()

    # Reads from the database

    def _steps(self, after: int, upto: int) -> set[int] | None:
        """Members whose templates changed in versions (after, upto]; None when the log cannot
        tell (steps purged, a whole-chain step, too far behind): reload whole."""
        if upto <= after:
            return set()
        if upto - after > MAX_STEPS:
            return None
        steps = list(
            GalleryChange.objects.filter(chain_id=self.chain_id, version__gt=after, version__lte=upto).values_list(
                "version", "member_id"
            )
        )
        if len({v for v, _ in steps}) != upto - after or any(m is None for _, m in steps):
            return None
        return {m for _, m in steps}

    def _current(self, members: set[int]) -> dict[int, np.ndarray]:
        """The members' templates as they are now ({member: empty} for those with none)."""
        if not members:
            return {}
        current: dict[int, list[np.ndarray]] = {m: [] for m in members}
        rows = gallery_templates(self.chain_id, self.model, unless_model=self.unless_model).filter(
            member_id__in=members
        )
        for member_id, text in rows.values_list("member_id", "template"):
            current[member_id].append(decode_template(text))
        return {m: np.asarray(t, np.float32).reshape(-1, self.dim) for m, t in current.items()}

    def _from_database(self, version: int) -> Snapshot:
        # The version was read before the rows: a step committing in between is replayed on
        # the next search, and replaying a step is idempotent (it re-reads the member).
        started = time.monotonic()
        rows = gallery_templates(self.chain_id, self.model, unless_model=self.unless_model)
        # Filled in place: 900k small arrays would leave their memory with the process for good.
        size = rows.count() + 64
        ids, matrix, n = np.empty(size, np.int64), np.empty((size, self.dim), np.float32), 0
        for member_id, text in rows.values_list("member_id", "template").iterator(chunk_size=5000):
            if n == len(ids):  # rows added since the count
                ids, matrix = np.resize(ids, 2 * n), np.resize(matrix, (2 * n, self.dim))
            ids[n], matrix[n] = member_id, decode_template(text)
            n += 1
        ids, matrix = ids[:n], matrix[:n]
        snapshot = Snapshot.from_rows(version, ids, matrix, self.dim)
        metrics.gallery_built(chain_id=self.chain_id, how="build", seconds=time.monotonic() - started)
        return snapshot

    # Keeping the view current (called with self.lock held)

    def refresh(self, version: int) -> None:
        shared = not connection.in_atomic_block
        if self.view is None or shared != self.shared:
            return self._load(version, shared)
        if self.folded is not None:
            snapshot, self.folded = self.folded, None
            if not self._rebase(snapshot):
                return self._load(version, shared)
        elif shared and time.monotonic() - self.checked_at > settings.GALLERY_CHECK_SECONDS:
            self.checked_at = time.monotonic()
            if max(self.store.versions(self.key), default=-1) > self.view.version:
                newer = self.store.latest(self.key)
                if newer is not None and not self._rebase(newer):
                    return self._load(version, shared)
        members = self._steps(self.version, version)
        if members is None:
            return self._load(version, shared)
        if members and not self.view.pending:
            self.pending_since = time.monotonic()
            if self.shared:  # folded in time even if no search comes: an erased template leaves the file
                timer = threading.Timer(settings.GALLERY_COMPACT_SECONDS + 1, self._on_timer)
                timer.daemon = True
                timer.start()
        self.view = self.view.apply(self._current(members))
        self.version = max(self.version, version)
        self._maybe_compact()

    def _rebase(self, snapshot: Snapshot) -> bool:
        """Take ``snapshot`` as the base and replay what came after it; False if the log cannot."""
        members = self._steps(snapshot.version, self.version)
        if members is None:
            return False
        self.view = LayeredGallery.on(snapshot).apply(self._current(members))
        self.version = max(self.version, snapshot.version)
        self.pending_since = time.monotonic()
        return True

    def _load(self, version: int, shared: bool) -> None:
        members: set[int] | None = set()
        if shared:
            with self.store.lock(self.key):
                snapshot = self.store.latest(self.key)
                members = None if snapshot is None else self._steps(snapshot.version, version)
                if members is None:
                    snapshot = self.store.write(self.key, self._from_database(version))
                    metrics.gallery_written(chain_id=self.chain_id)
                    members = set()
        else:
            snapshot = self._from_database(version)
        self.view = LayeredGallery.on(snapshot).apply(self._current(members))
        self.version, self.shared = max(version, snapshot.version), shared
        self.pending_since, self.checked_at, self.folded = time.monotonic(), time.monotonic(), None

    def _on_timer(self) -> None:
        with self.lock:
            self._maybe_compact()

    def _maybe_compact(self) -> None:
        view = self.view
        if not view.pending or self.compacting:
            return
        many = view.pending >= settings.GALLERY_COMPACT_CHANGES
        old = time.monotonic() - self.pending_since >= settings.GALLERY_COMPACT_SECONDS
        if not (many or old):
            return
        if not self.shared:
            self.view = LayeredGallery.on(view.folded(self.version))
            return
        # Folding 900k templates takes about a second: a thread does it while searches go on;
        # the next search takes the result in.
        self.compacting = True
        threading.Thread(
            target=self._compact, args=(view, self.version), daemon=True, name=f"gallery-compact-{self.key}"
        ).start()

    def _compact(self, view: LayeredGallery, version: int) -> None:
        started = time.monotonic()
        try:
            with self.store.lock(self.key):
                latest = self.store.latest(self.key)
                folded = (
                    latest
                    if latest is not None and latest.version >= version
                    else self.store.write(self.key, view.folded(version))
                )
            if folded is not latest:
                metrics.gallery_built(chain_id=self.chain_id, how="fold", seconds=time.monotonic() - started)
                metrics.gallery_written(chain_id=self.chain_id)
            with self.lock:
                if self.version == folded.version:  # nothing came since: take it now, let go of the old file
                    self.view = LayeredGallery.on(folded)
                else:
                    self.folded = folded
        except Exception:  # the gallery stays correct, only larger: log it and try on a later search
            logger.exception("Compacting gallery %s failed", self.key)
        finally:
            self.compacting = False


_galleries: dict[tuple, _ChainGallery] = {}
_galleries_lock = threading.Lock()


def gallery_for(chain_id: int, model: str | None = None, *, unless_model: str = "") -> LayeredGallery:
    """The chain's gallery of ``model`` (default: the active one), brought up to date with the
    database first."""
    model = model or settings.FACE_MODEL
    row = Chain.objects.filter(pk=chain_id).values_list("created_at", "gallery_version").first()
    if row is None:
        return LayeredGallery.empty(template_width(model))
    created, version = row
    with _galleries_lock:
        entry = _galleries.get((chain_id, created, model, unless_model))
        if entry is None:
            entry = _galleries[(chain_id, created, model, unless_model)] = _ChainGallery(
                chain_id, created, model, unless_model
            )
    with entry.lock:
        entry.refresh(version)
        return entry.view


def previous_gallery_for(chain_id: int) -> LayeredGallery | None:
    """While members move between models: the previous model's gallery of the members who have
    no active-model template yet (None when there is no move, or nobody left to move)."""
    previous = settings.FACE_MODEL_PREVIOUS
    if not previous:
        return None
    gallery = gallery_for(chain_id, previous, unless_model=settings.FACE_MODEL)
    return gallery if len(gallery) else None


def identify(
    *, chain_id: int, template: np.ndarray, model: str | None = None, gallery: LayeredGallery | None = None
) -> Identification:
    """1:N search over the chain's templates of ``model`` (default: the active one) with that
    model's threshold and margin; ``gallery``: search that one instead (previous_gallery_for)."""
    with metrics.timed("gallery_search"):
        match = (gallery if gallery is not None else gallery_for(chain_id, model)).search(template)
    decision = get_engine(model).config.policy.decide(match)
    has_best = match.identity is not None
    return Identification(
        member_id=decision.identity if decision.accepted else None,
        score=match.score if has_best else None,
        margin=match.margin if has_best else None,
        accepted=decision.accepted,
        best_member_id=match.identity,
        confirm=decision.confirm,
    )

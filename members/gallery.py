"""Each chain's face gallery, in memory in every process, never stale.

Adding or removing a template bumps Chain.gallery_version in the same transaction
(members.faces). Before every search a process reads that version (one indexed query); if
it moved, the process patches its gallery from the database first. So a template whose
removal has committed can never match again, on any worker, from that moment on."""
from __future__ import annotations

import base64
import threading
from dataclasses import dataclass

import numpy as np
from django.db.models import F

from justface.face.gallery import Gallery
from justface.face_runtime import get_engine
from members.models import Chain, FaceTemplate


@dataclass(frozen=True)
class Identification:
    member_id: int | None  # set only when accepted
    score: float | None  # best similarity, whoever it belonged to
    margin: float | None  # best minus second-best identity
    accepted: bool
    best_member_id: int | None = None  # the closest member even when not accepted (for audit/support)


def encode_template(template: np.ndarray) -> str:
    return base64.b64encode(np.asarray(template, dtype=np.float32).tobytes()).decode()


def decode_template(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def bump_version(chain_id: int) -> None:
    """Call inside the transaction that adds or removes templates of the chain."""
    Chain.objects.filter(pk=chain_id).update(gallery_version=F("gallery_version") + 1)


# A chain's version is (created_at, gallery_version) and a template's identity is (id,
# created_at): SQLite may hand out a deleted row's id again, and a counter restarts at 0 for a
# re-created chain, so neither id nor counter alone is enough to know nothing changed.
Version = tuple
TemplateKey = tuple


class _ChainGallery:
    def __init__(self):
        self.version: Version | None = None
        self.gallery = Gallery()
        self.rows: dict[TemplateKey, int] = {}  # template key -> member id
        self.lock = threading.Lock()

    def sync(self, chain_id: int, version: Version) -> None:
        # The version is read before the rows: a change committing in between leaves the
        # stored version behind, so the next search syncs again.
        rows = {(pk, created): member for pk, created, member in
                FaceTemplate.objects.filter(member__chain_id=chain_id).values_list("id", "created_at", "member_id")}
        changed = {self.rows[t] for t in self.rows.keys() - rows.keys()} | {rows[t] for t in rows.keys() - self.rows.keys()}
        if changed:
            fresh = FaceTemplate.objects.filter(member_id__in=changed).only("member_id", "template")
            self.gallery.patch(remove=changed, add=[(t.member_id, decode_template(t.template)) for t in fresh.iterator()])
        self.rows, self.version = rows, version


_galleries: dict[int, _ChainGallery] = {}
_galleries_lock = threading.Lock()


def gallery_for(chain_id: int) -> Gallery:
    """The chain's gallery, brought up to date with the database first."""
    with _galleries_lock:
        entry = _galleries.setdefault(chain_id, _ChainGallery())
    version = Chain.objects.filter(pk=chain_id).values_list("created_at", "gallery_version").first()
    if version is None:
        return Gallery()
    if entry.version != version:
        with entry.lock:
            if entry.version != version:
                entry.sync(chain_id, version)
    return entry.gallery


def identify(*, chain_id: int, template: np.ndarray) -> Identification:
    """1:N search over the chain's templates with the engine's threshold and margin."""
    match = gallery_for(chain_id).search(template)
    decision = get_engine().config.policy.decide(match)
    has_best = match.identity is not None
    return Identification(
        member_id=decision.identity if decision.accepted else None,
        score=match.score if has_best else None,
        margin=match.margin if has_best else None,
        accepted=decision.accepted,
        best_member_id=match.identity,
    )

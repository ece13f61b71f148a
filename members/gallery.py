"""Each chain's face gallery, in memory in every process, never stale.

Adding or removing a template bumps Chain.gallery_version in the same transaction
(members.faces). Before every search a process reads that version (one indexed query); if
it moved, the process patches its gallery from the database first. So a template whose
removal has committed can never match again, on any worker, from that moment on.

A gallery holds the templates of one model (FaceTemplate.model_name): scores of two models are
never compared. While members move from an older model (FACE_MODEL_PREVIOUS), a second gallery
per chain holds that model's templates of the members who have none of the active model yet."""
from __future__ import annotations

import base64
import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import F, QuerySet

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
    confirm: bool = False  # grey zone: best_member_id is proposed, their PIN must confirm


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


def gallery_templates(chain_id: int, model: str, *, unless_model: str = "") -> QuerySet[FaceTemplate]:
    """The chain's templates of ``model``; with ``unless_model``, only those of members who have
    no template of that model (the members the older model must still recognise)."""
    rows = FaceTemplate.objects.filter(member__chain_id=chain_id, model_name=model)
    if unless_model:
        rows = rows.exclude(member__face_templates__model_name=unless_model)
    return rows


class _ChainGallery:
    def __init__(self, model: str, unless_model: str):
        self.model, self.unless_model = model, unless_model
        self.version: Version | None = None
        self.gallery = Gallery()
        self.rows: dict[TemplateKey, int] = {}  # template key -> member id
        self.lock = threading.Lock()

    def sync(self, chain_id: int, version: Version) -> None:
        # The version is read before the rows: a change committing in between leaves the
        # stored version behind, so the next search syncs again.
        wanted = gallery_templates(chain_id, self.model, unless_model=self.unless_model)
        rows = {(pk, created): member for pk, created, member in wanted.values_list("id", "created_at", "member_id")}
        changed = {self.rows[t] for t in self.rows.keys() - rows.keys()} | {rows[t] for t in rows.keys() - self.rows.keys()}
        if changed:
            fresh = wanted.filter(member_id__in=changed).only("member_id", "template")
            self.gallery.patch(remove=changed, add=[(t.member_id, decode_template(t.template)) for t in fresh.iterator()])
        self.rows, self.version = rows, version


_galleries: dict[tuple[int, str, str], _ChainGallery] = {}
_galleries_lock = threading.Lock()


def gallery_for(chain_id: int, model: str | None = None, *, unless_model: str = "") -> Gallery:
    """The chain's gallery of ``model`` (default: the active one), brought up to date with the
    database first."""
    model = model or settings.FACE_MODEL
    with _galleries_lock:
        entry = _galleries.setdefault((chain_id, model, unless_model), _ChainGallery(model, unless_model))
    version = Chain.objects.filter(pk=chain_id).values_list("created_at", "gallery_version").first()
    if version is None:
        return Gallery()
    if entry.version != version:
        with entry.lock:
            if entry.version != version:
                entry.sync(chain_id, version)
    return entry.gallery


def previous_gallery_for(chain_id: int) -> Gallery | None:
    """While members move between models: the previous model's gallery of the members who have
    no active-model template yet (None when there is no move, or nobody left to move)."""
    previous = settings.FACE_MODEL_PREVIOUS
    if not previous:
        return None
    gallery = gallery_for(chain_id, previous, unless_model=settings.FACE_MODEL)
    return gallery if len(gallery) else None


def identify(*, chain_id: int, template: np.ndarray, model: str | None = None,
             gallery: Gallery | None = None) -> Identification:
    """1:N search over the chain's templates of ``model`` (default: the active one) with that
    model's threshold and margin; ``gallery``: search that one instead (previous_gallery_for)."""
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

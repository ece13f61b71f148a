"""The active challenge: whether a burst of frames answers "turn your head a little to the
left/right" as a live head would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..detect import Detection

LEFT, RIGHT = "turn_left", "turn_right"
INSTRUCTIONS = (LEFT, RIGHT)
from .passive import PassiveLiveness
from .pose import nose_parallax, similarity_change, yaw
from .scene import frame_difference, grey_copy, scene_similarity


@dataclass(frozen=True)
class ChallengeRules:
    """What a burst must show. A head turned "a little" (15-25 degrees) moves MTCNN's nose
    landmark by roughly 0.15-0.3 inter-ocular distances; a flat picture moves it by detector
    noise, larger on faces already turned away and when the detector swaps faces (synthetic
    still bursts from ../shared/pad/dev: docs/face-engine.md, *Liveness*)."""

    min_frames: int = 4  # frames with a usable face (of at most max_frames sent)
    max_frames: int = 10
    min_prob: float = 0.90  # MTCNN probability of each frame's face (the door's floor)
    max_start_yaw: float = 0.30  # the burst starts from a face looking at the camera
    max_scale_change: float = 1.35  # the whole face may grow or shrink this much between frames
    min_yaw_change: float = 0.15  # the turn the asked way, from the first frame...
    min_parallax: float = 0.08  # ...with the nose moving against the eyes-and-mouth plane...
    min_turned_frames: int = 2  # ...in at least this many frames (one odd detection is not a turn)
    min_same_face: float = 0.40  # template similarity of every frame to the first (SFace scale)
    min_face_px: float = 60.0
    tailgate_face_area: float = 0.5  # a second face this large spoils the frame (as at the door)
    # One continuous capture. Thresholds from bench/burst_continuity.py (pairs of
    # frames of one capture against pairs of photos of one person) and from bursts cut from
    # photos (liveness_eval.photo_attacks): docs/face-engine.md, *Liveness*.
    # A frame that differs from an earlier kept one by less than this mean grey level is a
    # repeat: dropped, it does not count towards min_frames (frames of a live camera differ by
    # sensor noise at least: 1.6 and more between frames of a still webcam in pad/dev2, 3.4 and
    # more in pad/dev; an exact copy differs by 0).
    repeat_diff: float = 1.0
    # Each frame to the next: the scene outside the face stays put (the door's camera is
    # mounted: 0.88 and more on pad/dev2's webcams; photos of one person: median 0.2-0.5)...
    min_scene_step: float = 0.70
    # ...and so does the face (template similarity of consecutive frames: 0.62 and more between
    # webcam frames of one capture at small yaw steps; photos of one person: median 0.71).
    min_face_step: float = 0.65
    # The turn is gradual: no single frame-to-frame step carries more than this share of it
    # (a modelled head turning 20 degrees over the burst: 0.25; two photos: ~1), and before its
    # peak the yaw goes back against the asked way by at most this share.
    max_turn_step_share: float = 0.60
    max_turn_backtrack: float = 0.50


@dataclass(frozen=True)
class BurstResult:
    ok: bool
    why: str  # "ok" or the first failed rule
    frames: int = 0  # sent
    faces: int = 0  # frames with a face
    yaw_change: float = 0.0  # signed the asked way: positive = turned as asked
    parallax: float = 0.0  # signed the asked way
    same_face: float | None = None  # lowest similarity of a frame to the first
    passive: float | None = None  # lowest passive score of the frames, when measured
    first: int | None = None  # index of the first frame with a face (the one to identify)
    shift: float = 0.0  # largest in-plane movement of the whole face, in IOD (for the record)
    scene_step: float | None = None  # lowest scene similarity of a frame to the next one
    face_step: float | None = None  # lowest template similarity of a frame to the next one
    turn_step_share: float | None = None  # the largest frame-to-frame step's share of the turn
    repeats: int = 0  # frames dropped as repeats of an earlier one
    details: dict = field(default_factory=dict)

    def as_record(self) -> dict:
        out = {
            "why": self.why,
            "frames": self.frames,
            "faces": self.faces,
            "yaw_change": round(self.yaw_change, 3),
            "parallax": round(self.parallax, 3),
            "shift": round(self.shift, 3),
        }
        if self.same_face is not None:
            out["same_face"] = round(self.same_face, 3)
        if self.passive is not None:
            out["passive_min"] = round(self.passive, 3)
        for key in ("scene_step", "face_step", "turn_step_share"):
            if getattr(self, key) is not None:
                out[key] = round(getattr(self, key), 3)
        if self.repeats:
            out["repeats"] = self.repeats
        return out


def _drop_repeats(found: list, greys: dict, repeat_diff: float) -> tuple[list, int]:
    """The frames that are not a (near-)copy of an earlier kept frame, and how many were."""
    kept: list = []
    for item in found:
        if any(frame_difference(greys[item[0]], greys[other[0]]) < repeat_diff for other in kept):
            continue
        kept.append(item)
    return kept, len(found) - len(kept)


def turn_profile(yaws: np.ndarray) -> tuple[float, float]:
    """Of a burst's yaws (signed the asked way, first frame first): the largest single
    frame-to-frame step's share of the turn (the largest yaw reached, from the first frame), and
    the share of it that went back against the asked way before that peak. A live head passes
    through intermediate poses on its way; a cut from one photo to another jumps."""
    turn = float(np.max(yaws[1:] - yaws[0]))
    if turn <= 1e-6:
        return 1.0, 0.0
    peak = int(np.argmax(yaws[1:] - yaws[0])) + 1
    steps = np.diff(yaws[: peak + 1])
    return float(np.max(steps) / turn), float(-np.sum(steps[steps < 0]) / turn)


def check_burst(
    engine,
    images: Sequence[Image.Image],
    instruction: str,
    *,
    rules: ChallengeRules = ChallengeRules(),
    passive: PassiveLiveness | None = None,
    passive_threshold: float | None = None,
) -> BurstResult:
    """Whether a burst of frames answers ``instruction`` (LEFT or RIGHT) as a live head would.

    ``engine`` is a FaceEngine (its detector finds the dominant face of each frame, its
    recogniser makes the templates that must all show the same face). With ``passive`` and
    ``passive_threshold``, every frame with a face must also pass the passive check.

    The frames must be one continuous capture: repeats of an earlier frame are
    dropped (they do not count towards ``min_frames``), each frame's scene outside the face and
    the face's appearance stay close to the previous frame's, and the yaw moves the asked way
    gradually (no single step carries most of the turn, little going back before its peak)."""
    if instruction not in INSTRUCTIONS:
        raise ValueError(f"unknown instruction {instruction!r}")
    sign = 1.0 if instruction == LEFT else -1.0
    frames = list(images)[: rules.max_frames]
    found: list[tuple[int, Image.Image, Detection]] = []
    spoiled = 0
    for i, img in enumerate(frames):
        faces = engine.detector.detect(img, rules.min_face_px, engine.config.door.detect_max_side)
        if not faces:
            continue
        if faces[0].prob < rules.min_prob or any(f.area >= rules.tailgate_face_area * faces[0].area for f in faces[1:]):
            spoiled += 1  # an unclear face, or two faces: no landmarks to trust
            continue
        found.append((i, img, faces[0]))
    greys = {i: grey_copy(img) for i, img, _ in found}  # once per frame: repeats and scene use them
    found, repeats = _drop_repeats(found, greys, rules.repeat_diff)
    if len(found) < rules.min_frames:
        why = "repeated_frames" if repeats and len(found) + repeats >= rules.min_frames else "too_few_faces"
        return BurstResult(False, why, len(frames), len(found), repeats=repeats, details={"spoiled": spoiled})
    marks = [np.asarray(face.landmarks) for _, _, face in found]
    yaws = np.array([yaw(m) for m in marks]) * sign
    turns = yaws[1:] - yaws[0]
    parallaxes = np.array([nose_parallax(marks[0], m) for m in marks[1:]]) * sign
    moves = [similarity_change(marks[0], m) for m in marks[1:]]
    turned = int(np.sum((turns >= rules.min_yaw_change) & (parallaxes >= rules.min_parallax)))
    templates = engine.embed(np.stack([engine.crop(img, face) for _, img, face in found]))
    same = float(np.min(templates[1:] @ templates[0]))
    face_step = float(np.min(np.sum(templates[1:] * templates[:-1], axis=1)))
    scene_step = min(
        scene_similarity(greys[a[0]], a[2].box, greys[b[0]], b[2].box)
        for a, b in zip(found[:-1], found[1:], strict=True)
    )
    step_share, backtrack = turn_profile(yaws)
    low_passive = None
    if passive is not None:
        low_passive = min(passive.score(img, face) for _, img, face in found)
    result = dict(
        frames=len(frames),
        faces=len(found),
        yaw_change=float(np.max(turns)),
        parallax=float(np.max(parallaxes)),
        same_face=same,
        passive=low_passive,
        first=found[0][0],
        shift=float(max(m["shift"] for m in moves)),
        scene_step=scene_step,
        face_step=face_step,
        turn_step_share=step_share,
        repeats=repeats,
        details={
            "turned_frames": turned,
            "start_yaw": round(float(yaws[0] * sign), 3),
            "spoiled": spoiled,
            "backtrack": round(backtrack, 3),
        },
    )
    scale_ratio = max(max(m["scale"], 1 / max(m["scale"], 1e-6)) for m in moves)
    if same < rules.min_same_face:
        return BurstResult(False, "not_same_face", **result)
    if scale_ratio > rules.max_scale_change:
        return BurstResult(False, "unsteady", **result)
    if passive_threshold is not None and low_passive is not None and low_passive < passive_threshold:
        return BurstResult(False, "passive", **result)
    if abs(yaws[0]) > rules.max_start_yaw:
        return BurstResult(False, "not_facing_camera", **result)
    if scene_step < rules.min_scene_step or face_step < rules.min_face_step:
        return BurstResult(False, "not_one_capture", **result)
    if result["yaw_change"] < rules.min_yaw_change:
        return BurstResult(False, "no_turn", **result)
    if turned < rules.min_turned_frames:
        return BurstResult(False, "flat", **result)
    if step_share > rules.max_turn_step_share or backtrack > rules.max_turn_backtrack:
        return BurstResult(False, "turn_not_gradual", **result)
    return BurstResult(True, "ok", **result)

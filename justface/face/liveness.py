"""Liveness: is the face in front of the camera a live person, not a print or a screen?

Two layers, both plain library code (no Django):

* **Passive** (``PassiveLiveness``): two small nets, MiniFASNetV2 and MiniFASNetV1SE by
  Minivision (Silent-Face-Anti-Spoofing, Apache-2.0; the ONNX files ship in ``weights/minifasnet``
  with their licence and are checked against the pinned sha256 when they load). Each sees a crop
  around the *detected* face box (2.7 and 4.0 times the box, shifted back inside the image, never
  clipped), resized to 80x80, BGR, 0-255, CHW; the score is the mean of their softmax[1] (class 1
  = real face). The nets have no notion of "no face" (random noise scores ~0.99): only ever give
  them a face the detector found.
* **Active challenge** (``check_burst``): a short burst of frames taken while the member turns
  their head a little to the side they were asked. From MTCNN's five landmarks per frame:
  the head turned the asked way (yaw: the nose tip's offset from the eyes' midpoint along the
  eye line, over the inter-ocular distance; unchanged by any in-plane shift, rotation or scale),
  the nose moved against the plane of the eyes and mouth corners (parallax: a printed or
  displayed face is flat, so its nose follows the affine motion of the other four points,
  however the print is shifted, turned or tilted), and every frame shows the same face.

Sign convention: frames as the camera delivers them (not mirrored). A person who turns their
head to *their own* left moves the nose towards the image's right: yaw grows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .detect import Detection
from .files import ModelError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "minifasnet"
SIZE = 80


@dataclass(frozen=True)
class PassiveNet:
    file: str
    scale: float  # crop side = scale x the face box (capped to fit the image)
    sha256: str


NETS = (
    PassiveNet("2.7_80x80_MiniFASNetV2.onnx", 2.7, "5add8d901d04f8ab4df159f0dbea2cef4fb18909b7f693f74bfc9d2b338b2c73"),
    PassiveNet(
        "4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0, "f0beff994c3f3d2c7797fdfbcc746aab61d0b3543dd68d731ba5bcf3e19a1f96"
    ),
)

# Passive threshold, chosen on ../shared/pad/dev with the project's MTCNN boxes so that at most 5%
# of live frames are refused (docs/face-engine.md, *Liveness*): a face scoring below it is not
# taken for a live one. Between it and DOUBT_BELOW the score is "in doubt": a centre on the
# default policy then asks for the challenge.
THRESHOLD = 0.33
DOUBT_BELOW = 0.90


# --- passive --------------------------------------------------------------------------------


def crop_box(
    box: tuple[float, float, float, float], width: int, height: int, scale: float
) -> tuple[int, int, int, int]:
    """The crop (x1, y1, x2, y2 inclusive, ints) ``scale`` times the face box about its centre,
    as the nets were trained (Silent-Face-Anti-Spoofing's CropImage._get_new_box): the scale is
    capped so that the crop fits the image, and a crop that sticks out is shifted back inside."""
    x, y = box[0], box[1]
    w, h = max(box[2] - box[0], 1.0), max(box[3] - box[1], 1.0)
    scale = min((height - 1) / h, (width - 1) / w, scale)
    new_w, new_h = w * scale, h * scale
    cx, cy = x + w / 2, y + h / 2
    x1, y1, x2, y2 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x1 < 0:
        x2 -= x1
        x1 = 0
    if y1 < 0:
        y2 -= y1
        y1 = 0
    if x2 > width - 1:
        x1 -= x2 - width + 1
        x2 = width - 1
    if y2 > height - 1:
        y1 -= y2 - height + 1
        y2 = height - 1
    return int(x1), int(y1), int(x2), int(y2)


def net_input(rgb: np.ndarray, box: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """(3, 80, 80) float32: the crop resized (bilinear), BGR, 0-255, CHW."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = crop_box(box, width, height, scale)
    patch = cv2.resize(rgb[y1 : y2 + 1, x1 : x2 + 1], (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(patch[:, :, ::-1].transpose(2, 0, 1), dtype=np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sha256_of(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class PassiveLiveness:
    """Both MiniFASNets on ONNX Runtime; one instance serves every thread."""

    def __init__(self, weights_dir: str | os.PathLike[str] = WEIGHTS_DIR, threads: int = 1):
        import onnxruntime as ort

        self._sessions = []
        for net in NETS:
            path = Path(weights_dir) / net.file
            if not path.is_file():
                raise ModelError(f"Liveness model {path} is missing (it ships with Justface: reinstall the code).")
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != net.sha256:
                raise ModelError(f"Liveness model {path}: sha256 {digest} is not the pinned {net.sha256}; refused.")
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as in ort.session
            self._sessions.append((net, ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])))

    def scores(self, rgb: np.ndarray, boxes: Sequence[tuple[float, float, float, float]]) -> np.ndarray:
        """p_real (0-1) of each face box of one RGB image: the mean of both nets' softmax[1]."""
        if not len(boxes):
            return np.zeros(0, dtype=np.float32)
        total = np.zeros(len(boxes), dtype=np.float64)
        for net, session in self._sessions:
            batch = np.stack([net_input(rgb, box, net.scale) for box in boxes])
            total += _softmax(session.run(None, {"input": batch})[0])[:, 1]
        return (total / len(self._sessions)).astype(np.float32)

    def score(self, image: Image.Image | np.ndarray, face: Detection) -> float:
        rgb = np.asarray(image) if isinstance(image, Image.Image) else image
        return float(self.scores(rgb, [face.box])[0])


# --- pose from five landmarks -----------------------------------------------------------------


def yaw(landmarks: np.ndarray) -> float:
    """Nose tip's offset from the eyes' midpoint along the eye line, over the inter-ocular
    distance (MTCNN order: eye, eye, nose, mouth, mouth; image left to right). 0 for a frontal
    face; positive when the person turns to their own left (nose towards the image's right).
    Invariant to in-plane shift, rotation and scale."""
    pts = np.asarray(landmarks, dtype=np.float64)
    eye_axis = pts[1] - pts[0]
    iod = np.linalg.norm(eye_axis)
    if iod < 1e-6:
        return 0.0
    return float(np.dot(pts[2] - (pts[0] + pts[1]) / 2, eye_axis / iod) / iod)


def nose_parallax(reference: np.ndarray, current: np.ndarray) -> float:
    """How far the nose moved against the plane of the other four landmarks between two frames,
    along the current eye line, in inter-ocular distances. The affine map that takes the eyes
    and mouth corners of ``reference`` onto those of ``current`` is fitted (least squares); on a
    flat picture (a print or a screen, however it is shifted, rotated, scaled or tilted) it also
    takes the nose along, so the residual is detector noise. A real head turning moves the nose
    tip, which stands out of that plane, further: the residual grows in the turn's direction."""
    ref, cur = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    others = [0, 1, 3, 4]
    a = np.hstack([ref[others], np.ones((4, 1))])
    coef, *_ = np.linalg.lstsq(a, cur[others], rcond=None)
    predicted = np.array([*ref[2], 1.0]) @ coef
    eye_axis = cur[1] - cur[0]
    iod = np.linalg.norm(eye_axis)
    if iod < 1e-6:
        return 0.0
    return float(np.dot(cur[2] - predicted, eye_axis / iod) / iod)


def similarity_change(reference: np.ndarray, current: np.ndarray) -> dict[str, float]:
    """The in-plane similarity transform (shift, rotation, scale) that best maps ``reference``'s
    five landmarks onto ``current``'s: how much the whole face moved in the picture."""
    ref, cur = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    matrix, _ = cv2.estimateAffinePartial2D(ref, cur, method=cv2.LMEDS)
    if matrix is None:
        return {"shift": 0.0, "rotation": 0.0, "scale": 1.0}
    iod = max(np.linalg.norm(ref[1] - ref[0]), 1e-6)
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    centre = ref.mean(axis=0)
    moved = matrix[:, :2] @ centre + matrix[:, 2]
    return {
        "shift": float(np.linalg.norm(moved - centre) / iod),
        "rotation": float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))),
        "scale": scale,
    }


# --- the challenge ------------------------------------------------------------------------------

LEFT, RIGHT = "turn_left", "turn_right"
INSTRUCTIONS = (LEFT, RIGHT)


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
        return out


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
    ``passive_threshold``, every frame with a face must also pass the passive check."""
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
    if len(found) < rules.min_frames:
        return BurstResult(False, "too_few_faces", len(frames), len(found), details={"spoiled": spoiled})
    marks = [np.asarray(face.landmarks) for _, _, face in found]
    yaws = np.array([yaw(m) for m in marks]) * sign
    turns = yaws[1:] - yaws[0]
    parallaxes = np.array([nose_parallax(marks[0], m) for m in marks[1:]]) * sign
    moves = [similarity_change(marks[0], m) for m in marks[1:]]
    turned = int(np.sum((turns >= rules.min_yaw_change) & (parallaxes >= rules.min_parallax)))
    templates = engine.embed(np.stack([engine.crop(img, face) for _, img, face in found]))
    same = float(np.min(templates[1:] @ templates[0]))
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
        details={"turned_frames": turned, "start_yaw": round(float(yaws[0] * sign), 3), "spoiled": spoiled},
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
    if result["yaw_change"] < rules.min_yaw_change:
        return BurstResult(False, "no_turn", **result)
    if turned < rules.min_turned_frames:
        return BurstResult(False, "flat", **result)
    return BurstResult(True, "ok", **result)


# --- what a held print or phone does: synthetic still bursts -----------------------------------


def still_burst(image: Image.Image, rng: np.random.Generator, frames: int = 8) -> list[Image.Image]:
    """A burst made from one still picture, as a hand-held print or phone moves in front of the
    camera: per frame a small shift (up to 4% of the side), rotation (up to 6 degrees), scale
    (up to 6%), perspective tilt (the picture's edges move up to 4% of the side: the sheet or
    phone turned by up to ~15-20 degrees) and brightness (up to 15%). An attacker's best effort
    against the challenge is to turn the picture the asked way: the tilt grows monotonically
    along the burst, in a random direction."""
    rgb = np.asarray(image.convert("RGB"))
    h, w = rgb.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    tilt_dir = rng.choice([-1.0, 1.0])
    out = []
    for k in range(frames):
        progress = k / max(frames - 1, 1)
        angle = rng.uniform(-6, 6)
        scale = 1 + rng.uniform(-0.06, 0.06)
        dx, dy = rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.04, 0.04) * h
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        rot[:, 2] += (dx, dy)
        # Perspective: one vertical edge comes closer (taller), the other goes away (shorter).
        t = tilt_dir * progress * 0.04 + rng.uniform(-0.01, 0.01)
        dst = src.copy()
        dst[[0, 3], 1] += np.float32([t * h, -t * h])  # left edge shrinks when t > 0
        dst[[1, 2], 1] += np.float32([-t * h, t * h])
        persp = cv2.getPerspectiveTransform(src, dst)
        affine = np.vstack([rot, [0, 0, 1]])
        warped = cv2.warpPerspective(rgb, affine @ persp, (w, h), borderMode=cv2.BORDER_REPLICATE)
        gain = 1 + rng.uniform(-0.15, 0.15)
        out.append(Image.fromarray(np.clip(warped.astype(np.float32) * gain, 0, 255).astype(np.uint8)))
    return out

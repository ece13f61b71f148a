"""Liveness: is the face in front of the camera a live person, not a print or a screen?

Two layers, both plain library code (no Django):

* **Passive** (``PassiveLiveness``): MiniFASNetV2 by Minivision (Silent-Face-Anti-Spoofing,
  Apache-2.0; the ONNX file ships in ``weights/minifasnet`` with its licence and is checked
  against the pinned sha256 when it loads) sees a crop 2.7 times the *detected* face box
  (shifted back inside the image, never clipped), resized to 80x80, BGR, 0-255, CHW; its
  softmax[1] (class 1 = real face) is the passive score. Beside it a frequency cue
  (``fft_ratio``): a re-captured face loses or aliases its fine detail. The net has no notion
  of "no face" (random noise scores ~0.99): only ever give it a face the detector found.
  (The second net of the pair, MiniFASNetV1SE, still ships but is not run: on pad/dev + dev2
  it made prints and replays score higher, not lower: docs/face-engine.md, *Liveness*.)
* **Clearly live, per camera** (``LiveReference``): the passive score refuses only what is
  clearly an attack (below ``THRESHOLD``); a frame walks in with no challenge only when both
  cues are above the cuts of the door's *own* live reference (its ``LIVE_QUANTILE`` of live
  frames at that camera). The default reference, before a door has learned its camera, lets
  no development attack in unchallenged (most members are challenged at first).
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
from PIL import Image, ImageOps

from .detect import Detection
from .files import ModelError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "minifasnet"
SIZE = 80


@dataclass(frozen=True)
class PassiveNet:
    file: str
    scale: float  # crop side = scale x the face box (capped to fit the image)
    sha256: str


V2 = PassiveNet("2.7_80x80_MiniFASNetV2.onnx", 2.7, "5add8d901d04f8ab4df159f0dbea2cef4fb18909b7f693f74bfc9d2b338b2c73")
V1SE = PassiveNet(
    "4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0, "f0beff994c3f3d2c7797fdfbcc746aab61d0b3543dd68d731ba5bcf3e19a1f96"
)
NETS = (V2,)  # the nets run; V1SE ships (and is pinned) but does not help: see the module's docstring
SHIPPED = (V2, V1SE)

# Passive threshold on MiniFASNetV2's p_real, chosen on ../shared/pad/dev + dev2 with the project's
# MTCNN boxes: 1.7% of their live frames score below it (docs/face-engine.md, *Liveness*). A face
# scoring below it is refused; above it the door's live reference decides between "clearly
# live" and the challenge. DOUBT_BELOW is the fixed grey band of the ``passive`` policy's
# reports only (the challenge policies use the door's reference).
THRESHOLD = 0.10
DOUBT_BELOW = 0.90

# The frequency cue: log(energy in FFT_HIGH / energy in FFT_LOW), in cycles per pixel, on the
# grey face box (1.0x) resized to FFT_SIZE.
FFT_SIZE = 128
FFT_LOW = (0.05, 0.25)
FFT_HIGH = (0.25, 0.5)


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


def logit(p: float) -> float:
    p = min(max(float(p), 1e-7), 1 - 1e-7)
    return float(np.log(p / (1 - p)))


def _fft_rings() -> tuple[np.ndarray, np.ndarray]:
    f = np.fft.fftfreq(FFT_SIZE)
    r = np.hypot(*np.meshgrid(f, f, indexing="ij"))
    return (r >= FFT_LOW[0]) & (r < FFT_LOW[1]), (r >= FFT_HIGH[0]) & (r <= FFT_HIGH[1])


_LOW_RING, _HIGH_RING = _fft_rings()


def fft_ratio(rgb: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """log(FFT energy at 0.25-0.5 cycles/px / energy at 0.05-0.25) of the grey face box (1.0x,
    shifted inside the image) resized to 128x128: low on a blurred or re-captured face."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = crop_box(box, width, height, 1.0)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y1 : y2 + 1, x1 : x2 + 1]), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (FFT_SIZE, FFT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    low, high = float(power[_LOW_RING].sum()), float(power[_HIGH_RING].sum())
    return float(np.log(max(high, 1e-12) / max(low, 1e-12)))


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


class PassiveLiveness:
    """MiniFASNetV2 on ONNX Runtime and the frequency cue; one instance serves every thread."""

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
        """p_real (0-1) of each face box of one RGB image: the mean of the nets' softmax[1]."""
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

    def cues(self, image: Image.Image | np.ndarray, face: Detection) -> Cues:
        """Both cues of one detected face."""
        rgb = np.asarray(image) if isinstance(image, Image.Image) else image
        return Cues(float(self.scores(rgb, [face.box])[0]), fft_ratio(rgb, face.box))


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


# --- one continuous capture: frame-to-frame measures -----------------------------------------

SCENE_SIDE = 64  # the scene is compared on a SCENE_SIDE x SCENE_SIDE grey copy of each frame
SCENE_FACE_MARGIN = 1.8  # ...outside the face box scaled this much about its centre (hair, ears)
SCENE_MIN_SHARE = 0.10  # with less scene than this share of the copy left, the whole copy is used


def _grey(image: Image.Image | np.ndarray) -> np.ndarray:
    """Grey float32 of an RGB image (a 2-D array is taken as grey already)."""
    if isinstance(image, np.ndarray) and image.ndim == 2:
        return image.astype(np.float32, copy=False)
    rgb = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def frame_difference(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray) -> float:
    """Mean absolute grey-level difference (0-255) of two frames at ``a``'s full resolution
    (``b`` resized to it when the sizes differ). Two frames of a live camera differ at least by
    sensor noise and the head's movement; the same picture sent twice (or re-encoded) barely
    differs."""
    ga, gb = _grey(a), _grey(b)
    if ga.shape != gb.shape:
        gb = cv2.resize(gb, (ga.shape[1], ga.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.mean(np.abs(ga - gb)))


def _scene(image: Image.Image | np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The frame as a small blurred grey copy and the mask of what lies outside the face."""
    grey = _grey(image)
    h, w = grey.shape
    small = cv2.GaussianBlur(cv2.resize(grey, (SCENE_SIDE, SCENE_SIDE), interpolation=cv2.INTER_AREA), (3, 3), 0)
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * SCENE_FACE_MARGIN / 2, (y2 - y1) * SCENE_FACE_MARGIN / 2
    xs = (np.arange(SCENE_SIDE) + 0.5) * w / SCENE_SIDE
    ys = (np.arange(SCENE_SIDE) + 0.5) * h / SCENE_SIDE
    inside = (np.abs(ys[:, None] - cy) <= half_h) & (np.abs(xs[None, :] - cx) <= half_w)
    return small, ~inside


def scene_similarity(
    a: Image.Image | np.ndarray,
    box_a: tuple[float, float, float, float],
    b: Image.Image | np.ndarray,
    box_b: tuple[float, float, float, float],
) -> float:
    """Normalised correlation (-1..1) of two frames' scene outside both faces (each frame
    shrunk to SCENE_SIDE px a side, grey, lightly blurred; the face boxes widened by
    SCENE_FACE_MARGIN). Unchanged by a change of brightness or contrast (the camera's exposure);
    high for two moments of one capture (the same wall, the same light), low for two photos
    taken elsewhere or at another time."""
    sa, ma = _scene(a, box_a)
    sb, mb = _scene(b, box_b)
    mask = ma & mb
    if mask.mean() < SCENE_MIN_SHARE:
        mask = np.ones_like(mask)
    va, vb = sa[mask] - sa[mask].mean(), sb[mask] - sb[mask].mean()
    denom = float(np.sqrt(np.sum(va * va) * np.sum(vb * vb)))
    if denom < 1e-6:  # a flat scene on both sides (a plain wall) is only "the same" if equal
        return 1.0 if float(np.mean(np.abs(sa[mask] - sb[mask]))) < 8.0 else 0.0
    return float(np.sum(va * vb) / denom)


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
    # One continuous capture (issue #21). Thresholds from bench/burst_continuity.py (pairs of
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

    The frames must be one continuous capture (issue #21): repeats of an earlier frame are
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
    greys = {i: _grey(img) for i, img, _ in found}  # once per frame: repeats and scene use them
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


# --- what a held print or phone does: synthetic still bursts -----------------------------------


def _handheld(rgb: np.ndarray, rng: np.random.Generator, tilt: float) -> np.ndarray:
    """One frame of a picture held in front of the camera: a random small shift (up to 4% of
    the side), rotation (up to 6 degrees), scale (up to 6%), perspective tilt ``tilt`` (plus up
    to 1% at random) and brightness (up to 15%)."""
    h, w = rgb.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    angle = rng.uniform(-6, 6)
    scale = 1 + rng.uniform(-0.06, 0.06)
    dx, dy = rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.04, 0.04) * h
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    rot[:, 2] += (dx, dy)
    # Perspective: one vertical edge comes closer (taller), the other goes away (shorter).
    t = tilt + rng.uniform(-0.01, 0.01)
    dst = src.copy()
    dst[[0, 3], 1] += np.float32([t * h, -t * h])  # left edge shrinks when t > 0
    dst[[1, 2], 1] += np.float32([-t * h, t * h])
    persp = cv2.getPerspectiveTransform(src, dst)
    affine = np.vstack([rot, [0, 0, 1]])
    warped = cv2.warpPerspective(rgb, affine @ persp, (w, h), borderMode=cv2.BORDER_REPLICATE)
    gain = 1 + rng.uniform(-0.15, 0.15)
    return np.clip(warped.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def still_burst(image: Image.Image, rng: np.random.Generator, frames: int = 8) -> list[Image.Image]:
    """A burst made from one still picture, as a hand-held print or phone moves in front of the
    camera: per frame a small shift (up to 4% of the side), rotation (up to 6 degrees), scale
    (up to 6%), perspective tilt (the picture's edges move up to 4% of the side: the sheet or
    phone turned by up to ~15-20 degrees) and brightness (up to 15%). An attacker's best effort
    against the challenge is to turn the picture the asked way: the tilt grows monotonically
    along the burst, in a random direction."""
    rgb = np.asarray(image.convert("RGB"))
    tilt_dir = rng.choice([-1.0, 1.0])
    out = []
    for k in range(frames):
        progress = k / max(frames - 1, 1)
        out.append(Image.fromarray(_handheld(rgb, rng, tilt_dir * progress * 0.04)))
    return out


def photo_burst(
    photos: Sequence[Image.Image],
    sequence: Sequence[int],
    *,
    mirrored: Sequence[int] = (),
    rng: np.random.Generator | None = None,
) -> list[Image.Image]:
    """A burst cut together from several photos of one person (issue #21): frame k shows
    ``photos[sequence[k]]``, left-right mirrored when its index is in ``mirrored`` (a photo
    turned the other way made to turn the asked way), every photo at the first one's size.
    ``[0, 0, 1, 1]`` is the two-photo attack [P, P, T, T]; ``[0, 0, 1, 1, 2, 2, 3, 3]`` a
    slideshow of four. With ``rng`` each frame also moves as a hand-held picture does
    (``_handheld``, no tilt), so that no two frames are copies of each other."""
    size = photos[sequence[0]].size
    prepared = {}
    for i in set(sequence):
        img = photos[i].convert("RGB")
        if i in mirrored:
            img = ImageOps.mirror(img)
        prepared[i] = img if img.size == size else img.resize(size, Image.Resampling.BILINEAR)
    if rng is None:
        return [prepared[i] for i in sequence]
    return [Image.fromarray(_handheld(np.asarray(prepared[i]), rng, 0.0)) for i in sequence]

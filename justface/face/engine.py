"""The face engine: photo or door frame in, L2-normalised template (or a reason) out (128-d with
SFace, 512-d with FaceNet).

``get_engine(config)`` loads the models once per process, lazily and thread-safely; the
engine itself holds no per-request state, so one instance serves every thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
from PIL import Image

from . import backend
from .config import EngineConfig
from .detect import Detection, Detector
from .image import ImageError, brightness, decode_image, sharpness
from .liveness import Cues, PassiveLiveness

QUALITY_SIZE = 128  # face box resampled to this size for the quality measures
RETRY_MAX_SIDE = 640  # a door frame without a face at the small size is looked at once more at this size


class Reason(StrEnum):
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_LARGE = "image_too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"  # an image, but not JPEG, PNG or WebP
    TOO_MANY_PIXELS = "too_many_pixels"  # a request's images together (image.PixelBudget)
    BUSY = "busy"  # never the engine's own answer: a caller's, when it could not get its turn
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    LOW_CONFIDENCE = "low_confidence"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRY = "blurry"
    POOR_QUALITY = "poor_quality"  # door frames: any quality floor missed
    NOT_LIVE = "not_live"  # the passive liveness check took the face for a print or a screen


# Sentences for members and the door screen, keyed by reason (translate by key).
MESSAGES: dict[Reason, str] = {
    Reason.NOT_AN_IMAGE: "This file is not a photo we can read. Please use a JPEG, PNG or WebP photo.",
    Reason.CORRUPT_IMAGE: "This photo could not be read completely. Please take it again.",
    Reason.IMAGE_TOO_LARGE: "This photo is too large. Please use a smaller photo.",
    Reason.UNSUPPORTED_FORMAT: "This type of file is not accepted. Please use a JPEG, PNG or WebP photo.",
    Reason.TOO_MANY_PIXELS: "These photos are too large together. Please send fewer or smaller ones.",
    Reason.BUSY: "Please try again in a moment.",
    Reason.NO_FACE: "We could not find a face. Please look straight at the camera.",
    Reason.MULTIPLE_FACES: "There is more than one face. Please make sure only you are in the picture.",
    Reason.LOW_CONFIDENCE: "Your face is not clearly visible. Please look at the camera "
    "with nothing covering your face.",
    Reason.FACE_TOO_SMALL: "Your face is too small in this photo. Please come closer to the camera.",
    Reason.TOO_DARK: "This photo is too dark. Please take it in better light.",
    Reason.TOO_BRIGHT: "This photo is too bright. Please avoid strong light on or behind your face.",
    Reason.BLURRY: "This photo is blurry. Please hold still and take it again.",
    Reason.POOR_QUALITY: "Please stand still and look at the camera.",
    Reason.NOT_LIVE: "Please take a photo of yourself, not of a photo or a screen.",
}


@dataclass(frozen=True)
class Quality:
    face_px: float  # shorter side of the face box
    sharpness: float  # variance of Laplacian on the face crop
    brightness: float  # mean grey level of the face crop


@dataclass(frozen=True)
class FaceResult:
    """Outcome of analysing one image: a template, or a reason (never both)."""

    reason: Reason | None
    template: np.ndarray | None = None  # (dim,) float32, unit length
    detection: Detection | None = None
    quality: Quality | None = None
    faces: int = 0  # faces found
    liveness: float | None = None  # passive liveness score (p_real, 0-1), when it was asked for
    cues: Cues | None = None  # both passive cues (liveness.Cues), when the score was asked for
    frame: int = 0  # of a burst: the frame whose face ``detection`` is
    frames_used: int = 1  # of a burst: the frames whose templates were fused

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def message(self) -> str:
        return "" if self.reason is None else MESSAGES[self.reason]


EnrollmentResult = DoorResult = FaceResult


class FaceEngine:
    def __init__(self, config: EngineConfig):
        self.config = config
        nets = backend.load(config)
        self.detector = Detector(nets.mtcnn, config.mtcnn_thresholds, config.mtcnn_factor)
        self.recognizer = nets.recognizer
        self._passive: PassiveLiveness | None = None
        self._passive_lock = threading.Lock()

    @property
    def passive(self) -> PassiveLiveness:
        """The passive liveness nets (liveness.py), loaded on first use."""
        if self._passive is None:
            with self._passive_lock:
                if self._passive is None:
                    self._passive = PassiveLiveness(threads=self.config.num_threads)
        return self._passive

    @property
    def model(self) -> str:
        return self.recognizer.name

    @property
    def dim(self) -> int:
        return self.recognizer.dim

    def analyse_enrollment(
        self, image: bytes | Image.Image, *, liveness_threshold: float | None = None
    ) -> EnrollmentResult:
        """Gate a member's enrollment photo; on success return its template.

        Rules, in order: a readable image; at least one face; no second face whose box is
        ``max_second_face_area`` (25%) or more of the largest face's area and whose
        probability reaches ``min_prob`` (a stranger far behind the member is tolerated, a
        second person beside them is not); then the largest face must reach the floors for
        probability, size, brightness (both ends) and sharpness. Size is checked before
        sharpness because a small face is blurry once enlarged, and "come closer" is the
        useful advice. With ``liveness_threshold``, last, the face must pass the passive
        liveness check (``not_live``: a photo of a photo or of a screen); no template is made
        of a face that fails it.
        """
        gate = self.config.enrollment
        try:
            img = self._image(image)
        except ImageError as exc:
            return FaceResult(Reason(exc.reason))
        # Look for faces down to half the floor, so that a small face hears "come closer"
        # rather than "no face", and smaller background faces are seen too.
        faces = self.detector.detect(img, gate.min_face_px / 2, gate.detect_max_side)
        if not faces:
            return FaceResult(Reason.NO_FACE)
        face = faces[0]
        if any(f.area >= gate.max_second_face_area * face.area and f.prob >= gate.min_prob for f in faces[1:]):
            return FaceResult(Reason.MULTIPLE_FACES, faces=len(faces))
        quality = measure_quality(img, face)
        checks = (
            (face.prob < gate.min_prob, Reason.LOW_CONFIDENCE),
            (face.size < gate.min_face_px, Reason.FACE_TOO_SMALL),
            (quality.brightness < gate.min_brightness, Reason.TOO_DARK),
            (quality.brightness > gate.max_brightness, Reason.TOO_BRIGHT),
            (quality.sharpness < gate.min_sharpness, Reason.BLURRY),
        )
        for failed, reason in checks:
            if failed:
                return FaceResult(reason, detection=face, quality=quality, faces=len(faces))
        cues = None if liveness_threshold is None else self.passive.cues(img, face)
        live = None if cues is None else cues.p_real
        if live is not None and live < liveness_threshold:
            return FaceResult(
                Reason.NOT_LIVE, detection=face, quality=quality, faces=len(faces), liveness=live, cues=cues
            )
        template = self.enrollment_template(self.crop(img, face))
        return FaceResult(None, template, face, quality, len(faces), live, cues)

    def enrollment_template(self, crop: np.ndarray) -> np.ndarray:
        """The template of an enrollment crop averaged with its mirror image: a steadier
        reference for the door at no cost to the door (calib, SFace: +1 point of members
        admitted at the default threshold; docs/face-engine.md)."""
        both = self.embed(np.stack([crop, np.ascontiguousarray(crop[:, ::-1])])).sum(axis=0)
        return both / np.linalg.norm(both)

    def analyse_door_frame(self, image: bytes | Image.Image, *, liveness_threshold: float | None = None) -> DoorResult:
        """Template of the dominant face of a door-camera frame.

        ``multiple_faces`` when a second face is at least ``tailgate_face_area`` of the
        dominant face's area (two people at the door); smaller faces further back are
        ignored. ``poor_quality`` when any floor is missed. With ``liveness_threshold`` the
        gated face's passive liveness score is measured (``liveness``); below the threshold the
        answer is ``not_live`` and no template is made.
        """
        gate = self.config.door
        try:
            img = self._image(image)
        except ImageError as exc:
            return FaceResult(Reason(exc.reason))
        faces = self.detector.detect(img, gate.min_face_px, gate.detect_max_side)
        if not faces and max(img.size) > gate.detect_max_side:
            # The small copy misses a few faces of full-resolution frames (pad/dev, dev2): one
            # more look at RETRY_MAX_SIDE, paid only by frames without a face.
            faces = self.detector.detect(img, gate.min_face_px, max(gate.detect_max_side, RETRY_MAX_SIDE))
        if not faces:
            return FaceResult(Reason.NO_FACE)
        face = faces[0]
        if any(f.area >= gate.tailgate_face_area * face.area for f in faces[1:]):
            return FaceResult(Reason.MULTIPLE_FACES, faces=len(faces))
        quality = measure_quality(img, face)
        if (
            face.prob < gate.min_prob
            or quality.sharpness < gate.min_sharpness
            or not gate.min_brightness <= quality.brightness <= gate.max_brightness
        ):
            return FaceResult(Reason.POOR_QUALITY, detection=face, quality=quality, faces=len(faces))
        # The template first, then the passive check: in this order the check slows the
        # recognition net least (measured: it evicts less of what SFace needs next time).
        template = self.embed(self.crop(img, face)[None])[0]
        cues = None if liveness_threshold is None else self.passive.cues(img, face)
        live = None if cues is None else cues.p_real
        if live is not None and live < liveness_threshold:
            return FaceResult(
                Reason.NOT_LIVE, detection=face, quality=quality, faces=len(faces), liveness=live, cues=cues
            )
        return FaceResult(None, template, face, quality, len(faces), live, cues)

    def analyse_door_burst(
        self, images: Sequence[bytes | Image.Image], *, liveness_threshold: float | None = None
    ) -> DoorResult:
        """One template from a short burst of frames of the same visit: each frame is analysed as
        ``analyse_door_frame``; the templates of the frames with one good face are averaged (a
        steadier probe than any single frame). Refused as ``multiple_faces`` when any frame shows
        two people, and as ``poor_quality`` when the good frames do not show the same face
        (their templates less similar than ``DoorGate.burst_same_face``). No good frame: the
        first frame's reason. With ``liveness_threshold``, the burst's cues are the median frame's
        of each cue (one odd frame moves neither): below the threshold the burst is ``not_live``,
        and they decide "clearly live" at the door (pad/dev + dev2, bursts of 3 frames of one
        video: docs/face-engine.md, *Liveness*)."""
        # Every frame's cues are measured (threshold 0: none refused alone); the median frame's decide.
        measure = None if liveness_threshold is None else 0.0
        results = [self.analyse_door_frame(image, liveness_threshold=measure) for image in images]
        refused = next((r for r in results if r.reason is Reason.MULTIPLE_FACES), None)
        if refused is not None:
            return refused
        good = [(n, r) for n, r in enumerate(results) if r.ok]
        if not good:
            return results[0]
        cues = [r.cues for _, r in good if r.cues is not None]
        median = Cues.median(cues) if cues else None
        if median is not None and liveness_threshold is not None and median.p_real < liveness_threshold:
            n, first = good[0]
            return replace(first, reason=Reason.NOT_LIVE, template=None, frame=n, liveness=median.p_real, cues=median)
        templates = np.stack([r.template for _, r in good])
        if len(good) > 1 and float((templates @ templates.T).min()) < self.config.door.burst_same_face:
            return FaceResult(Reason.POOR_QUALITY, faces=good[0][1].faces)
        fused = templates.sum(axis=0)
        first_frame, first = good[0]
        return replace(
            first,
            template=fused / np.linalg.norm(fused),
            frame=first_frame,
            frames_used=len(good),
            liveness=None if median is None else median.p_real,
            cues=median,
        )

    def fit_for_enrollment(self, result: FaceResult) -> bool:
        """Whether an accepted door frame's face also meets the enrollment floors (probability,
        size, brightness, sharpness): good enough to become a template itself."""
        gate, q, face = self.config.enrollment, result.quality, result.detection
        return bool(
            result.ok
            and q is not None
            and face is not None
            and face.prob >= gate.min_prob
            and face.size >= gate.min_face_px
            and gate.min_brightness <= q.brightness <= gate.max_brightness
            and q.sharpness >= gate.min_sharpness
        )

    def photo_crop(self, image: bytes | Image.Image) -> np.ndarray | None:
        """Model input crop for a labelled test photo, without quality gates: the face
        covering the image centre (the labelled person in LFW-style sets), else the
        largest. None if there is no face or no image. Embed crops in batches with embed()."""
        try:
            img = self._image(image)
        except ImageError:
            return None
        faces = self.detector.detect(img, 20, max(img.size))
        if not faces:
            return None
        cx, cy = img.width / 2, img.height / 2
        central = [f for f in faces if f.box[0] <= cx <= f.box[2] and f.box[1] <= cy <= f.box[3]]
        return self.crop(img, (central or faces)[0])

    def crop(self, img: Image.Image, face: Detection) -> np.ndarray:
        """The model's input crop (uint8 HWC) of a detected face (recognizers.py)."""
        return self.recognizer.crop(img, face)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """A batch of the model's crops -> (N, dim) float32 unit-length templates."""
        return self.recognizer.embed(crops)

    def template_of(self, image: bytes | Image.Image, face: Detection) -> np.ndarray:
        """This model's template of a face another engine already found and gated (a door
        frame searched in a second model's gallery while members move between models)."""
        return self.embed(self.crop(self._image(image), face)[None])[0]

    def _image(self, image: bytes | Image.Image) -> Image.Image:
        if isinstance(image, Image.Image):
            return image if image.mode == "RGB" else image.convert("RGB")
        return decode_image(image, self.config.image)


def measure_quality(img: Image.Image, face: Detection) -> Quality:
    """Sharpness and brightness of the face box (inside the image), resampled to a fixed
    size so that figures compare across cameras; an enlarged small face reads as blurry."""
    box = (
        max(0, round(face.box[0])),
        max(0, round(face.box[1])),
        min(img.width, round(face.box[2])),
        min(img.height, round(face.box[3])),
    )
    if box[2] - box[0] < 3 or box[3] - box[1] < 3:
        return Quality(face.size, 0.0, 0.0)
    gray = np.asarray(img.crop(box).convert("L").resize((QUALITY_SIZE, QUALITY_SIZE), Image.BILINEAR))
    return Quality(face.size, sharpness(gray), brightness(gray))


_engines: dict[EngineConfig, FaceEngine] = {}
_lock = threading.Lock()


def get_engine(config: EngineConfig) -> FaceEngine:
    """The process-wide engine for ``config``, loaded on first use (double-checked lock:
    no lock once loaded, and concurrent first calls load the models only once)."""
    engine = _engines.get(config)
    if engine is None:
        with _lock:
            engine = _engines.get(config)
            if engine is None:
                engine = _engines[config] = FaceEngine(config)
    return engine

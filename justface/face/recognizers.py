"""Recognition models behind one interface: a model's own crop of a detected face, then a batch
of crops into L2-normalised templates. The engine calls only ``crop`` and ``embed``, so a
model's preprocessing (box crop or landmark alignment) stays with its weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image

from . import sface
from .detect import Detection

SFACE = sface.NAME
FACENET_CASIA = "facenet-casia"
FACENET_VGGFACE2 = "facenet-vggface2"
MODELS = (SFACE, FACENET_CASIA, FACENET_VGGFACE2)
FACENET_SIZE = 160  # InceptionResnetV1 input


def template_width(model: str) -> int:
    """The width of ``model``'s templates, without loading the model."""
    return sface.DIM if model == SFACE else 512


class Recognizer(Protocol):
    name: str
    dim: int

    def crop(self, img: Image.Image, face: Detection) -> np.ndarray: ...

    def embed(self, crops: np.ndarray) -> np.ndarray: ...


class SFaceRecognizer:
    """SFace: the face warped onto the ArcFace 5-point template from MTCNN's landmarks."""

    name, dim = SFACE, sface.DIM

    def __init__(self, net: Callable[[np.ndarray], np.ndarray]):
        self._net = net

    def crop(self, img: Image.Image, face: Detection) -> np.ndarray:
        return sface.align(np.asarray(img), np.asarray(face.landmarks))

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, 112, 112, 3) uint8 aligned crops -> (N, 128) float32 unit-length templates."""
        return self._net(crops)


class FaceNetRecognizer:
    """Sandberg's FaceNet: the MTCNN box grown ``crop_scale`` times and squashed to 160x160, as
    it was trained (docs/face-engine.md: alignment measured no better for this model)."""

    dim = 512

    def __init__(self, name: str, net: Callable[[np.ndarray], np.ndarray], crop_scale: float):
        self.name = name
        self._net = net
        self._crop_scale = crop_scale

    def crop(self, img: Image.Image, face: Detection) -> np.ndarray:
        """(160, 160, 3) uint8: the box grown about its centre (black beyond the image edge),
        squashed to a square like the training data."""
        x1, y1, x2, y2 = face.box
        half_w = (x2 - x1) * self._crop_scale / 2
        half_h = (y2 - y1) * self._crop_scale / 2
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        box = (round(cx - half_w), round(cy - half_h), round(cx + half_w), round(cy + half_h))
        return np.asarray(img.crop(box).resize((FACENET_SIZE, FACENET_SIZE), Image.BILINEAR))

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, 160, 160, 3) uint8 crops -> (N, 512) float32 unit-length templates."""
        # Fixed standardisation, as the model was trained (--use_fixed_image_standardization
        # in Sandberg's facenet); per-image prewhitening measured worse (docs/face-engine.md).
        return self._net((crops.astype(np.float32) - 127.5) / 128.0)

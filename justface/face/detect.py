"""Face detection with MTCNN (facenet-pytorch's nets, our stages: mtcnn.py) on a downscaled copy
of the image."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import mtcnn

MTCNN_MIN_FACE = mtcnn.PNET_CELL  # faces smaller than this (after scaling) are unseen
MtcnnNet = mtcnn.Net


@dataclass(frozen=True)
class Detection:
    """One face in full-resolution image coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    prob: float
    landmarks: tuple[tuple[float, float], ...]  # eyes, nose, mouth corners: (x, y) x 5

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """Face size in pixels: the shorter side of the box."""
        return min(self.width, self.height)

    @property
    def area(self) -> float:
        return self.width * self.height


class Detector:
    """MTCNN (mtcnn.py) without facenet-pytorch's MTCNN class and its shared mutable settings,
    so that one instance serves every thread with per-call sizes. ``nets`` are PNet, RNet and ONet:
    torch modules or stand-ins from backend.py."""

    def __init__(self, nets: Sequence[MtcnnNet], thresholds: tuple[float, float, float], factor: float):
        self._nets = tuple(nets)
        self.thresholds = tuple(thresholds)
        self.factor = factor

    def detect(self, image: Image.Image, min_face_px: float, max_side: int) -> list[Detection]:
        """Faces of at least ``min_face_px``, largest first.

        MTCNN's cost grows with image area, and a face that fills much of a frame does not
        need full resolution to be found, so detection runs on a copy whose longer side is at
        most ``max_side``; boxes come back in full-resolution coordinates for cropping.
        """
        # Box-filter reduction by an integer factor: antialiased, ~8x faster than resize().
        factor = max(1, math.ceil(max(image.size) / max_side))
        small = image.reduce(factor) if factor > 1 else image
        scale = 1 / factor
        min_size = max(MTCNN_MIN_FACE, min_face_px * scale)
        if min(small.size) < min_size:
            return []
        boxes, points = mtcnn.detect(np.asarray(small), min_size, self._nets, self.thresholds, self.factor)
        faces = [
            Detection(
                box=tuple(float(v) / scale for v in box[:4]),
                prob=float(box[4]),
                landmarks=tuple((float(x) / scale, float(y) / scale) for x, y in pts),
            )
            for box, pts in zip(boxes, points)
        ]
        faces = [f for f in faces if f.size >= min_face_px]
        return sorted(faces, key=lambda f: f.area, reverse=True)

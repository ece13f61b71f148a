"""MTCNN's three stages around facenet-pytorch's PNet, RNet and ONet, in numpy and OpenCV.

The stages, thresholds, box arithmetic and non-maximum suppression follow facenet-pytorch's
``detect_face`` (itself a port of Zhang et al.'s MATLAB code). What differs is the plumbing:
``detect_face`` resamples every pyramid level and every candidate face with a separate torch
``interpolate`` call, runs NMS through torchvision (or our stand-in) once per pyramid level,
and does its box arithmetic in many small tensor operations. On a door frame that plumbing
took half of the detection time; here it is cv2.resize and vectorised numpy (docs/face-engine.md).

Resampling is OpenCV's INTER_AREA where ``detect_face`` uses torch's "area" mode: both average
the source pixels under each output pixel, but they split fractional pixels differently. The
nets see slightly different inputs, so boxes move by a few pixels (the same faces are found;
dev accuracy is as good or better; tests/face/test_mtcnn.py, docs/face-engine.md).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

# Each net maps a float NCHW tensor (values (x - 127.5) / 128) to a tuple of tensors.
Net = Callable[[torch.Tensor], tuple[torch.Tensor, ...]]

PNET_STRIDE = 2
PNET_CELL = 12  # PNet's input window; the smallest face it sees
NMS_PER_SCALE = 0.5
NMS_ACROSS_SCALES = 0.7
NMS_RNET = 0.7
NMS_ONET = 0.7  # with overlap measured against the smaller box ("Min")


def detect(
    rgb: np.ndarray,
    min_size: float,
    nets: tuple[Net, Net, Net],
    thresholds: tuple[float, float, float] | list[float],
    factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Faces in an (H, W, 3) RGB image: boxes (n, 5) as x1, y1, x2, y2, probability, and
    landmarks (n, 5, 2) as (x, y) of eyes, nose and mouth corners; both float32."""
    pnet, rnet, onet = nets
    image = np.ascontiguousarray(rgb, dtype=np.float32)
    with torch.inference_mode():
        boxes = _proposals(image, min_size, pnet, thresholds[0], factor)
        if len(boxes):
            boxes = _refine(image, boxes, rnet, thresholds[1])
        if len(boxes):
            return _output(image, boxes, onet, thresholds[2])
    return _no_faces()


def _no_faces() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)


def _proposals(image: np.ndarray, min_size: float, pnet: Net, threshold: float, factor: float) -> np.ndarray:
    """Stage 1: PNet slid over an image pyramid; square candidate boxes (n, 5)."""
    h, w = image.shape[:2]
    found = []
    for scale in _scales(h, w, min_size, factor):
        level = cv2.resize(image, (int(w * scale + 1), int(h * scale + 1)), interpolation=cv2.INTER_AREA)
        reg, prob = pnet(_tensor(level[None]))
        prob, reg = prob[0, 1].numpy(), reg[0].numpy()
        ys, xs = np.nonzero(prob >= threshold)
        if not len(ys):
            continue
        cells = np.stack([xs, ys], axis=1).astype(np.float32)
        boxes = np.concatenate(
            [
                np.floor((PNET_STRIDE * cells + 1) / scale),
                np.floor((PNET_STRIDE * cells + PNET_CELL) / scale),
                prob[ys, xs, None],
                reg[:, ys, xs].T,
            ],
            axis=1,
        )
        found.append(boxes[nms(boxes[:, :4], boxes[:, 4], NMS_PER_SCALE)])
    if not found:
        return np.zeros((0, 5), np.float32)
    boxes = np.concatenate(found)
    boxes = boxes[nms(boxes[:, :4], boxes[:, 4], NMS_ACROSS_SCALES)]
    size = boxes[:, 2:4] - boxes[:, 0:2]
    corners = boxes[:, 0:4] + boxes[:, 5:9] * np.tile(size, 2)
    return _square(np.concatenate([corners, boxes[:, 4:5]], axis=1))


def _refine(image: np.ndarray, boxes: np.ndarray, rnet: Net, threshold: float) -> np.ndarray:
    """Stage 2: RNet rejects most candidates and regresses the rest."""
    boxes, crops = _crops(image, boxes, 24)
    if not len(boxes):
        return boxes
    reg, prob = (t.numpy() for t in rnet(_tensor(crops)))
    keep = prob[:, 1] > threshold
    boxes = np.concatenate([boxes[keep, :4], prob[keep, 1:2]], axis=1)
    reg = reg[keep]
    pick = nms(boxes[:, :4], boxes[:, 4], NMS_RNET)
    return _square(_regress(boxes[pick], reg[pick]))


def _output(image: np.ndarray, boxes: np.ndarray, onet: Net, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 3: ONet's final probability, box and five landmarks."""
    boxes, crops = _crops(image, boxes, 48)
    if not len(boxes):
        return _no_faces()
    reg, marks, prob = (t.numpy() for t in onet(_tensor(crops)))
    keep = prob[:, 1] > threshold
    boxes = np.concatenate([boxes[keep, :4], prob[keep, 1:2]], axis=1)
    reg, marks = reg[keep], marks[keep]
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1
    points = np.stack(
        [
            size[:, 0:1] * marks[:, 0:5] + boxes[:, 0:1] - 1,
            size[:, 1:2] * marks[:, 5:10] + boxes[:, 1:2] - 1,
        ],
        axis=2,
    )
    boxes = _regress(boxes, reg)
    pick = nms(boxes[:, :4], boxes[:, 4], NMS_ONET, min_overlap=True)
    return boxes[pick].astype(np.float32), points[pick].astype(np.float32)


def _scales(h: int, w: int, min_size: float, factor: float) -> list[float]:
    """Pyramid scales: the first maps a ``min_size`` face onto PNet's 12-pixel window."""
    scale = PNET_CELL / min_size
    side = min(h, w) * scale
    scales = []
    while side >= PNET_CELL:
        scales.append(scale)
        scale *= factor
        side *= factor
    return scales


def _tensor(batch: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) pixels -> the nets' standardised NCHW input, as a channels-last view
    (the nets are channels-last: no transposing copy)."""
    return torch.from_numpy((batch - 127.5) * 0.0078125).permute(0, 3, 1, 2)


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each box's pixels (clipped to the image) resampled to size x size; boxes with no
    pixels inside the image are dropped. MTCNN's 1-based box convention, as detect_face."""
    h, w = image.shape[:2]
    corners = np.trunc(boxes[:, :4]).astype(np.int64)
    x1, y1 = np.maximum(corners[:, 0], 1), np.maximum(corners[:, 1], 1)
    x2, y2 = np.minimum(corners[:, 2], w), np.minimum(corners[:, 3], h)
    valid = (x2 > x1 - 1) & (y2 > y1 - 1)
    crops = [
        cv2.resize(image[y1[k] - 1 : y2[k], x1[k] - 1 : x2[k]], (size, size), interpolation=cv2.INTER_AREA)
        for k in np.flatnonzero(valid)
    ]
    if not crops:
        return boxes[:0], np.zeros((0, size, size, 3), np.float32)
    return boxes[valid], np.stack(crops)


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Move box corners by the net's offsets, in units of the box size (+1 convention)."""
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1
    out = boxes.copy()
    out[:, :4] = boxes[:, :4] + reg[:, :4] * np.tile(size, 2)
    return out


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square about its centre (the nets' input is square)."""
    out = boxes.copy()
    size = boxes[:, 2:4] - boxes[:, 0:2]
    side = size.max(axis=1)
    out[:, 0:2] = boxes[:, 0:2] + size * 0.5 - side[:, None] * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, *, min_overlap: bool = False) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the kept boxes, best score first.

    Overlap is intersection over union, with boxes as continuous coordinates (torchvision's
    ``nms``, used by detect_face in stages 1 and 2); with ``min_overlap``, intersection over
    the smaller box with MTCNN's +1 pixel convention (detect_face's stage 3). A box is dropped
    when its overlap with a kept box exceeds ``threshold``.
    """
    if not len(boxes):
        return np.zeros(0, np.int64)
    b = boxes.astype(np.float64)
    extra = 1.0 if min_overlap else 0.0
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1 + extra) * (y2 - y1 + extra)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + extra)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + extra)
        inter = w * h
        overlap = inter / (np.minimum(areas[i], areas[rest]) if min_overlap else areas[i] + areas[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)

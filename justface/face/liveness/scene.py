"""One continuous capture: frame-to-frame measures of the scene around the face."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SCENE_SIDE = 64  # the scene is compared on a SCENE_SIDE x SCENE_SIDE grey copy of each frame
SCENE_FACE_MARGIN = 1.8  # ...outside the face box scaled this much about its centre (hair, ears)
SCENE_MIN_SHARE = 0.10  # with less scene than this share of the copy left, the whole copy is used


def grey_copy(image: Image.Image | np.ndarray) -> np.ndarray:
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
    ga, gb = grey_copy(a), grey_copy(b)
    if ga.shape != gb.shape:
        gb = cv2.resize(gb, (ga.shape[1], ga.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.mean(np.abs(ga - gb)))


def _scene(image: Image.Image | np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The frame as a small blurred grey copy and the mask of what lies outside the face."""
    grey = grey_copy(image)
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

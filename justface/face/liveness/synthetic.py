"""What a held print or phone does: synthetic still bursts (for the evaluation and the tests)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageOps


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
    """A burst cut together from several photos of one person: frame k shows
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

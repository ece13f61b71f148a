"""Pose from MTCNN's five landmarks: the yaw of the head, the nose's parallax against the plane
of the eyes and mouth, and how much the face moved as a whole."""

from __future__ import annotations

import cv2
import numpy as np


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

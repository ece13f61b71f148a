"""Our MTCNN stages against facenet-pytorch's detect_face, on real photos.

With the same resampling (torch's "area" mode) the two must agree exactly: that checks every
threshold, box formula and NMS. With OpenCV's INTER_AREA (what we ship) boxes move by a few
pixels, which the accuracy figures in docs/face-engine.md take into account.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from justface.face import mtcnn
from justface.face._torchvision import import_facenet_pytorch
from justface.face.evaluate import image_files

from .conftest import door_frame

THRESHOLDS = (0.6, 0.7, 0.7)
FACTOR = 0.709


def reference(rgb: np.ndarray, min_size: float, nets) -> tuple[np.ndarray, np.ndarray]:
    import_facenet_pytorch()
    from facenet_pytorch.models.utils.detect_face import detect_face

    with torch.inference_mode():
        boxes, points = detect_face(rgb[None].astype(np.float32), min_size, *nets, list(THRESHOLDS), FACTOR, "cpu")
    return boxes[0].astype(np.float32), points[0].astype(np.float32)


def torch_area_resize(image: np.ndarray, size: tuple[int, int], interpolation=None) -> np.ndarray:
    """cv2.resize's signature, torch's area resampling (as detect_face's imresample)."""
    planes = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    return F.interpolate(planes, size=(size[1], size[0]), mode="area")[0].permute(1, 2, 0).numpy()


@pytest.fixture(scope="module")
def images(face_data, photo):
    """Door frames (one face) and two two-person frames, at detection size."""
    frames = [door_frame(photo(name, 1)).reduce(2) for name in list(image_files(face_data))[:10]]
    frames.append(door_frame(photo("Colin_Powell", 1), photo("Hugo_Chavez", 1), face_px=300).reduce(2))
    return [np.asarray(f) for f in frames]


def test_same_as_detect_face_with_the_same_resampling(torch_engine, images, monkeypatch):
    nets = torch_engine.detector._nets  # torch modules: detect_face needs their parameters
    monkeypatch.setattr(mtcnn.cv2, "resize", torch_area_resize)
    for rgb in images:
        ours, our_points = mtcnn.detect(rgb, 40, nets, THRESHOLDS, FACTOR)
        theirs, their_points = reference(rgb, 40, nets)
        assert ours.shape == theirs.shape and len(ours)
        order = np.argsort(-ours[:, 4]), np.argsort(-theirs[:, 4])
        assert np.abs(ours[order[0]] - theirs[order[1]]).max() < 1e-3
        assert np.abs(our_points[order[0]] - their_points[order[1]]).max() < 1e-3


def test_opencv_resampling_finds_the_same_faces(torch_engine, images):
    for rgb in images:
        ours, _ = mtcnn.detect(rgb, 40, torch_engine.detector._nets, THRESHOLDS, FACTOR)
        theirs, _ = reference(rgb, 40, torch_engine.detector._nets)
        assert len(ours) == len(theirs)
        for box in theirs:
            assert max(iou(box, o) for o in ours) > 0.85


def test_nothing_in_a_blank_image(engine):
    boxes, points = mtcnn.detect(np.full((240, 320, 3), 128, np.uint8), 40, engine.detector._nets, THRESHOLDS, FACTOR)
    assert boxes.shape == (0, 5) and points.shape == (0, 5, 2)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 4, 4]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.95], np.float32)
    # IoU: box 0 vs 1 is 9/11 > 0.5; box 3 lies inside box 0 (IoU 0.16) and survives.
    assert mtcnn.nms(boxes, scores, 0.5).tolist() == [3, 1, 2]
    # Overlap measured against the smaller box (+1 convention): box 3 lies inside boxes 0 and 1
    # (overlaps 25/25 and 20/25), so both go.
    assert mtcnn.nms(boxes, scores, 0.7, min_overlap=True).tolist() == [3, 2]
    assert mtcnn.nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

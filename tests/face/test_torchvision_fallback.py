"""The pure-torch stand-in for the two torchvision functions facenet-pytorch uses."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from justface.face import _torchvision as tv


def reference_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Textbook greedy NMS, one pair at a time."""

    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union

    keep: list[int] = []
    for i in sorted(range(len(scores)), key=lambda i: -scores[i]):
        if all(iou(boxes[i], boxes[k]) <= threshold for k in keep):
            keep.append(i)
    return keep


def random_boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    return np.hstack([xy, xy + wh]).astype(np.float32), rng.permutation(n).astype(np.float32)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("seed", range(5))
def test_nms_equals_reference(seed, threshold):
    boxes, scores = random_boxes(np.random.default_rng(seed), 200)
    kept = tv.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold)
    assert kept.dtype == torch.int64
    assert kept.tolist() == reference_nms(boxes, scores, threshold)


def test_batched_nms_keeps_groups_apart():
    rng = np.random.default_rng(7)
    boxes, scores = random_boxes(rng, 150)
    groups = rng.integers(0, 3, 150)
    kept = tv.batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(groups), 0.5).tolist()
    expected = []
    for g in range(3):
        idx = np.flatnonzero(groups == g)
        expected += [int(idx[k]) for k in reference_nms(boxes[idx], scores[idx], 0.5)]
    assert kept == sorted(expected, key=lambda i: -scores[i])


def test_nms_of_nothing():
    empty = torch.zeros((0, 4))
    assert tv.batched_nms(empty, torch.zeros(0), torch.zeros(0), 0.5).tolist() == []


def test_to_tensor_matches_torchvision_semantics():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = tv.to_tensor(hwc)
    assert t.shape == (3, 2, 3) and t.dtype == torch.float32
    assert t[1, 0, 2].item() == pytest.approx(hwc[0, 2, 1] / 255)
    floats = hwc.astype(np.float32)
    assert torch.equal(tv.to_tensor(floats), torch.from_numpy(floats.transpose(2, 0, 1)))


def test_broken_torchvision_is_cleaned_out(tmp_path, monkeypatch):
    """A CUDA torchvision beside CPU torch dies half-way through its import."""
    package = tmp_path / "torchvision"
    package.mkdir()
    (package / "_meta.py").write_text("")
    (package / "__init__.py").write_text(
        "from . import _meta\nraise RuntimeError('operator torchvision::nms does not exist')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("torchvision")]:
        monkeypatch.delitem(sys.modules, name)
    assert tv.real_torchvision_available() is False
    assert not [n for n in sys.modules if n.startswith("torchvision")]


def test_facenet_pytorch_gets_working_nms():
    tv.import_facenet_pytorch()
    from facenet_pytorch.models.utils import detect_face

    if tv.real_torchvision_available():
        pytest.skip("the real torchvision loads here, so it is used")
    assert detect_face.batched_nms is tv.batched_nms
    assert detect_face.F.to_tensor is tv.to_tensor
    # The stand-in is not left where other libraries would mistake it for torchvision.
    assert "torchvision" not in sys.modules

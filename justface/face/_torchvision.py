"""Import facenet-pytorch on hosts where torchvision cannot be imported.

facenet-pytorch's MTCNN uses exactly two torchvision functions:
``torchvision.ops.boxes.batched_nms`` and ``torchvision.transforms.functional.to_tensor``.
The PyPI torchvision wheel is built against CUDA and fails to import beside a CPU-only torch
("operator torchvision::nms does not exist"), or it is simply absent. In that case we put a
pure-torch stand-in for those two functions into ``sys.modules`` only while facenet_pytorch is
imported (it binds them as module globals), then take the stand-in out again so that no other
library mistakes it for the real torchvision.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import numpy as np
import torch

_STUB_NAMES = (
    "torchvision",
    "torchvision.ops",
    "torchvision.ops.boxes",
    "torchvision.transforms",
    "torchvision.transforms.functional",
)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression with torchvision's semantics.

    Boxes are (x1, y1, x2, y2) without the +1 pixel convention; returns the indices of the kept
    boxes in decreasing score order. Memory is O(N): one IoU row per kept box.
    """
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    b = boxes.detach().to("cpu", torch.float64).numpy()
    s = scores.detach().to("cpu", torch.float64).numpy()
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-s, kind="stable")
    suppressed = np.zeros(len(s), dtype=bool)
    keep = []
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[pos + 1 :]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[iou > iou_threshold]] = True
    return torch.as_tensor(np.asarray(keep, dtype=np.int64), device=boxes.device)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS applied independently per value of ``idxs`` (torchvision's coordinate-offset trick)."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def to_tensor(pic: Any) -> torch.Tensor:
    """HWC numpy array or PIL image -> CHW tensor; uint8 is scaled to [0, 1] like torchvision."""
    arr = np.asarray(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    tensor = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if tensor.dtype == torch.uint8:
        return tensor.float().div(255)
    return tensor


def _stub_modules() -> dict[str, types.ModuleType]:
    mods = {name: types.ModuleType(name) for name in _STUB_NAMES}
    mods["torchvision.ops.boxes"].batched_nms = batched_nms
    mods["torchvision.ops.boxes"].nms = nms
    mods["torchvision.transforms.functional"].to_tensor = to_tensor
    for name, mod in mods.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(mods[parent], child, mod)
    return mods


def _forget(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]


def real_torchvision_available() -> bool:
    """Import the real torchvision if it works; clean up what a failed import left behind."""
    try:
        importlib.import_module("torchvision.ops.boxes")
        importlib.import_module("torchvision.transforms.functional")
    except (ImportError, RuntimeError):
        # A CUDA build beside CPU torch dies half-way ("operator torchvision::nms does not
        # exist"), leaving partial modules that would break the next import attempt.
        _forget("torchvision")
        return False
    return True


def import_facenet_pytorch() -> types.ModuleType:
    """Return the facenet_pytorch module, with a torchvision stand-in if needed."""
    if "facenet_pytorch" in sys.modules or real_torchvision_available():
        return importlib.import_module("facenet_pytorch")
    sys.modules.update(_stub_modules())
    try:
        return importlib.import_module("facenet_pytorch")
    finally:
        _forget("torchvision")

"""Inference backends: the nets the engine runs, from ONNX Runtime (the default: about twice
as fast on this CPU) or torch (the reference the ONNX exports are checked against).

Both give the same templates within 1e-4 (tests/face/test_backend.py). Either way the nets are
built once per engine, i.e. once per process, and shared by every thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import export, ort
from ._torchvision import import_facenet_pytorch
from .config import EngineConfig
from .convert import ModelError, load_facenet
from .detect import MtcnnNet

ONNXRUNTIME = "onnxruntime"
TORCH = "torch"
BACKENDS = (ONNXRUNTIME, TORCH)

# Standardised NHWC float32 crops (N, 160, 160, 3) -> (N, 512) unit-length templates.
FaceNet = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Nets:
    mtcnn: tuple[MtcnnNet, MtcnnNet, MtcnnNet]  # PNet, RNet, ONet
    facenet: FaceNet


def load(config: EngineConfig) -> Nets:
    # torch also runs MTCNN's image pyramid and candidate crops under the ONNX backend.
    torch.set_num_threads(config.num_threads)
    if config.backend == ONNXRUNTIME:
        return _onnxruntime(config)
    if config.backend == TORCH:
        return _torch(config)
    raise ModelError(f"unknown face backend {config.backend!r}: use one of {', '.join(BACKENDS)}")


def _onnxruntime(config: EngineConfig) -> Nets:
    onnx_dir = config.onnx_dir or Path(config.model_path).parent
    facenet = ort.session(
        export.facenet_path(onnx_dir, config.model_path), config.num_threads, export.sha256(config.model_path)
    )
    mtcnn = tuple(
        ort.OrtNet(ort.session(export.mtcnn_path(onnx_dir, name), config.num_threads,
                               export.sha256(export.mtcnn_weights(name))))
        for name in export.MTCNN
    )
    return Nets(mtcnn, ort.OrtFaceNet(facenet))


def _torch(config: EngineConfig) -> Nets:
    fp = import_facenet_pytorch()
    # channels_last: same numbers, faster on CPU (this torch's NCHW max_pool2d is ~5x slower
    # on MTCNN's small maps, and FaceNet runs ~20% faster).
    mtcnn = tuple(net().eval().to(memory_format=torch.channels_last) for net in (fp.PNet, fp.RNet, fp.ONet))
    return Nets(mtcnn, TorchFaceNet(load_facenet(config.model_path)))


class TorchFaceNet:
    def __init__(self, model: torch.nn.Module):
        self._model = model.to(memory_format=torch.channels_last)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # NHWC memory viewed as NCHW is channels_last already: no transposing copy.
        with torch.inference_mode():
            return self._model(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()

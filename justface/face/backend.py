"""Inference backends: the recognition model and MTCNN's PNet on ONNX Runtime (the default:
FaceNet about twice as fast on this CPU, PNet's small pyramid levels faster too) or on torch
(the reference the ONNX exports are checked against); MTCNN's RNet and ONet run in torch either
way. SFace exists only as ONNX: it runs on ONNX Runtime under either backend.

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

from . import export, ort, sface
from ._torchvision import import_facenet_pytorch
from .config import EngineConfig
from .convert import ModelError, load_facenet
from .detect import MtcnnNet
from .recognizers import MODELS, SFACE, FaceNetRecognizer, Recognizer, SFaceRecognizer

ONNXRUNTIME = "onnxruntime"
TORCH = "torch"
BACKENDS = (ONNXRUNTIME, TORCH)

# Standardised NHWC float32 crops (N, 160, 160, 3) -> (N, 512) unit-length templates.
FaceNet = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Nets:
    mtcnn: tuple[MtcnnNet, MtcnnNet, MtcnnNet]  # PNet, RNet, ONet
    recognizer: Recognizer


def load(config: EngineConfig) -> Nets:
    # The gallery's matrix product runs on numpy's BLAS, whose idle threads busy-wait after
    # each call: beside one-thread inference in every web process they burned about a third
    # of a core per process under load (docs/door.md). Same thread count as inference.
    threadpool_limits(limits=config.num_threads, user_api="blas")
    if config.model not in MODELS:
        raise ModelError(f"unknown face model {config.model!r}: use one of {', '.join(MODELS)}")
    if config.backend not in BACKENDS:
        raise ModelError(f"unknown face backend {config.backend!r}: use one of {', '.join(BACKENDS)}")
    onnx_dir = config.onnx_dir or Path(config.model_path).parent
    if config.model == SFACE:
        net = sface.SFaceNet(ort.session(config.model_path, config.num_threads, sface.SHA256))
        return Nets(_mtcnn(config, onnx_dir), SFaceRecognizer(net))
    if config.backend == ONNXRUNTIME:
        facenet = ort.session(
            export.facenet_path(onnx_dir, config.model_path), config.num_threads, export.sha256(config.model_path)
        )
        net = ort.OrtFaceNet(facenet)
    else:
        net = TorchFaceNet(load_facenet(config.model_path))
    return Nets(_mtcnn(config, onnx_dir), FaceNetRecognizer(config.model, net, config.crop_scale))


def _mtcnn(config: EngineConfig, onnx_dir: str | Path) -> tuple[MtcnnNet, ...]:
    fp = import_facenet_pytorch()
    if config.backend == ONNXRUNTIME:
        # MTCNN's torch nets on one thread: their time goes into many small calls that gain
        # nothing from a second thread, and torch's idle OpenMP threads spinning beside ONNX
        # Runtime's own pool slowed FaceNet down (docs/face-engine.md). PNet likewise.
        torch.set_num_threads(1)
        pnet = ort.session(export.pnet_path(onnx_dir), 1, export.sha256(export.pnet_weights()))
        return (ort.OrtPNet(pnet), *_torch_nets(fp.RNet, fp.ONet))
    torch.set_num_threads(config.num_threads)
    return _torch_nets(fp.PNet, fp.RNet, fp.ONet)


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

"""FaceNet and MTCNN's PNet on ONNX Runtime, from the exports install.install() wrote (export.py).

An ``InferenceSession`` may be run from several threads at once, so the engine creates it once
per process and shares it.
"""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort
import torch

from .export import SOURCE_KEY
from .files import ModelError


def session(path: str | os.PathLike[str], threads: int, source: str) -> ort.InferenceSession:
    """A CPU session on ``threads`` intra-op threads for the export of the weights whose
    sha256 is ``source``. Raises ModelError when the file is missing or from other weights."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the nets are chains of layers: nothing to run side by side
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads must sleep, not spin: the door runs several nets one after the other
    # (MTCNN, SFace, the liveness nets), and a pool spinning after its run took the CPU from the
    # next net (door frame with the passive check: 43.7 -> 31.1 ms median; alone: unchanged).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own types (NoSuchFile, InvalidProtobuf, ...)
        raise ModelError(f"cannot load {path} ({exc}); run `python manage.py install_face_model`.") from exc
    if sess.get_modelmeta().custom_metadata_map.get(SOURCE_KEY) != source:
        raise ModelError(f"{path} was exported from other weights; run `python manage.py install_face_model`.")
    return sess


class OrtFaceNet:
    """The exported ``InceptionResnetV1(classify=False)``: standardised NHWC crops in,
    L2-normalised templates out."""

    def __init__(self, sess: ort.InferenceSession):
        self._session = sess

    def __call__(self, x: np.ndarray) -> np.ndarray:
        nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        return self._session.run(None, {"x": nchw})[0]


class OrtPNet:
    """MTCNN's PNet, called like the torch module: a standardised NCHW tensor of one pyramid
    level in, (box offsets, face probabilities) tensors out."""

    def __init__(self, sess: ort.InferenceSession):
        self._session = sess

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        reg, prob = self._session.run(None, {"x": np.ascontiguousarray(x.numpy())})
        return torch.from_numpy(reg), torch.from_numpy(prob)

"""Installing a recognition model (and MTCNN's PNet export) into a cache directory, by name."""

from __future__ import annotations

import os
from pathlib import Path

from . import convert, export, sface
from .files import ModelError
from .recognizers import FACENET_CASIA, FACENET_VGGFACE2, MODELS, SFACE

_FACENET_WEIGHTS = {FACENET_CASIA: convert.CASIA, FACENET_VGGFACE2: convert.VGGFACE2}


def install(cache_dir: str | os.PathLike[str], model: str, *, sface_source: str = sface.DEFAULT_SOURCE) -> Path:
    """The weights file the engine loads for ``model`` (``EngineConfig.model_path``), installed
    and verified first if needed, with the ONNX exports ONNX Runtime runs. Idempotent."""
    if model == SFACE:
        path = sface.install(cache_dir, sface_source)
        export.install_pnet_onnx(cache_dir)
        return path
    if model in _FACENET_WEIGHTS:
        return install_facenet(cache_dir, _FACENET_WEIGHTS[model])
    raise ModelError(f"unknown face model {model!r}: use one of {', '.join(MODELS)}")


def installed_path(cache_dir: str | os.PathLike[str], model: str) -> Path:
    """Where install() puts ``model``'s weights (without installing anything)."""
    cache = Path(cache_dir)
    if model == SFACE:
        return cache / sface.PREPARED_FILE
    if model == FACENET_CASIA:
        return cache / convert.CASIA_FILE
    if model == FACENET_VGGFACE2:
        return cache / convert.VGGFACE2_FILE
    raise ModelError(f"unknown face model {model!r}: use one of {', '.join(MODELS)}")


def install_facenet(cache_dir: str | os.PathLike[str], weights: str = convert.CASIA) -> Path:
    """FaceNet's state_dict (``casia-webface``, ``vggface2`` or a state_dict path: see convert.py),
    and the ONNX copies ONNX Runtime runs (FaceNet from it, and MTCNN's PNet), each checked
    against torch. Idempotent."""
    path = convert.install_state_dict(Path(cache_dir), weights)
    export.install_onnx(cache_dir, path)
    export.install_pnet_onnx(cache_dir)
    return path

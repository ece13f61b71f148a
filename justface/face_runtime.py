"""The face engine as a Django process uses it: built once per process from settings, lazily
(the model loads on the first scan or enrollment, not at import) and thread-safely (the
library's get_engine locks)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from django.conf import settings

from justface.face import convert
from justface.face.config import EngineConfig
from justface.face.engine import FaceEngine
from justface.face.engine import get_engine as engine_for

_engine: FaceEngine | None = None


def model_cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


def install_model() -> Path:
    """The state_dict file for FACE_MODEL, converting or downloading it first if needed, and
    its ONNX export beside it."""
    return convert.install_model(model_cache_dir(), settings.FACE_MODEL)


def engine_config() -> EngineConfig:
    config = EngineConfig(
        model_path=str(install_model()),
        backend=settings.FACE_BACKEND,
        onnx_dir=str(model_cache_dir()),
        num_threads=settings.FACE_TORCH_THREADS,  # threads for either backend
    )
    overrides = {"match_threshold": settings.FACE_MATCH_THRESHOLD, "match_margin": settings.FACE_MATCH_MARGIN}
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


def get_engine() -> FaceEngine:
    global _engine
    if _engine is None:
        _engine = engine_for(engine_config())
    return _engine

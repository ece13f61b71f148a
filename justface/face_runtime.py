"""The face engine as a Django process uses it: built once per process and model from settings,
lazily (a model loads on the first scan or enrollment that needs it, not at import) and
thread-safely (the library's get_engine locks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from justface.face import install
from justface.face.config import EngineConfig
from justface.face.engine import FaceEngine
from justface.face.engine import get_engine as engine_for
from justface.face.image import ImageLimits

# One face analysis, or one image decoding, at a time per process: the engine already spreads one
# analysis over FACE_TORCH_THREADS cores and two at once only fight for them (docs/door.md), and
# a decoding holds the most memory a request can (an image at the limit, before it is reduced:
# bench/image_bombs.py). The door's decisions, its frames' decoding, and enrollments all take it.
# Reentrant, so a holder may call code that takes it too. Whoever cannot get it within
# ENGINE_WAIT_SECONDS answers "busy" (the door: `unavailable`).
engine_slot = threading.RLock()
ENGINE_WAIT_SECONDS = 10.0


@contextmanager
def engine_turn(wait: float | None = None) -> Iterator[bool]:
    """Hold the engine slot for one analysis or decoding: yields True while holding it, or
    False (holding nothing) when it stayed taken for ``wait`` seconds (ENGINE_WAIT_SECONDS)."""
    held = engine_slot.acquire(timeout=ENGINE_WAIT_SECONDS if wait is None else wait)
    try:
        yield held
    finally:
        if held:
            engine_slot.release()


_engines: dict[str, FaceEngine] = {}


def model_cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


def installed_models() -> list[str]:
    """The active model and, while members move from it, the previous one."""
    return [m for m in (settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS) if m]


def install_model(model: str | None = None) -> Path:
    """The weights file of ``model`` (default: the active one), installed and verified first if
    needed, with its ONNX exports beside it."""
    return install.install(model_cache_dir(), model or settings.FACE_MODEL, sface_source=settings.SFACE_SOURCE)


def engine_config(model: str | None = None) -> EngineConfig:
    model = model or settings.FACE_MODEL
    active = model == settings.FACE_MODEL  # the thresholds in settings are the active model's
    return EngineConfig(
        model_path=str(install_model(model)),
        model=model,
        backend=settings.FACE_BACKEND,
        onnx_dir=str(model_cache_dir()),
        num_threads=settings.FACE_TORCH_THREADS,  # threads for either backend
        match_threshold=settings.FACE_MATCH_THRESHOLD if active else None,
        match_margin=settings.FACE_MATCH_MARGIN if active else None,
        stranger_rate=settings.FACE_STRANGER_RATE if active else None,
        confirm_rate=settings.FACE_CONFIRM_RATE if active else None,
        enrollment_match_threshold=settings.FACE_ENROLLMENT_MATCH_THRESHOLD if active else None,
        image=image_limits(),
    )


def image_limits() -> ImageLimits:
    """The limits every accepted image is held to (README: JUSTFACE_IMAGE_*)."""
    return ImageLimits(
        max_pixels=settings.IMAGE_MAX_PIXELS,
        max_side=settings.IMAGE_MAX_SIDE,
        max_request_pixels=settings.IMAGE_MAX_REQUEST_PIXELS,
    )


def get_engine(model: str | None = None) -> FaceEngine:
    """The engine of ``model`` (default: the active model, FACE_MODEL)."""
    model = model or settings.FACE_MODEL
    engine = _engines.get(model)
    if engine is None:
        engine = _engines[model] = engine_for(engine_config(model))
    return engine

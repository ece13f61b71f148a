"""Session fixtures for the face engine tests: real photos and one engine per test run.

These tests need no database. The labelled photos (never in the repo) come from
JUSTFACE_FACE_DATA, default ../shared/faces/dev beside the repo; without them the tests fail
and say so.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from justface.face.config import EngineConfig
from justface.face.engine import FaceEngine, get_engine
from justface.face.install import install
from justface.face.recognizers import FACENET_CASIA, SFACE

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def face_data() -> Path:
    folder = Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev"))
    if not folder.is_dir():
        pytest.fail(
            f"Face photos not found at {folder}: set JUSTFACE_FACE_DATA to a folder with one "
            "sub-folder of photos per person (e.g. ../shared/faces/dev).",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"


@pytest.fixture(scope="session")
def model_path(models_dir: Path) -> Path:
    """The CASIA-WebFace FaceNet's state_dict (the previous default model)."""
    return install(models_dir, FACENET_CASIA)


@pytest.fixture(scope="session")
def sface_path(models_dir: Path) -> Path:
    return install(models_dir, SFACE)


@pytest.fixture(scope="session")
def engine(sface_path: Path) -> FaceEngine:
    """The default engine: SFace, MTCNN's PNet on ONNX Runtime."""
    return get_engine(EngineConfig(model_path=str(sface_path), model=SFACE))


@pytest.fixture(scope="session")
def facenet_engine(model_path: Path) -> FaceEngine:
    """The CASIA-WebFace FaceNet on ONNX Runtime."""
    return get_engine(EngineConfig(model_path=str(model_path), model=FACENET_CASIA))


@pytest.fixture(scope="session")
def torch_engine(model_path: Path) -> FaceEngine:
    """The reference for the FaceNet export: the same weights run by torch."""
    return get_engine(EngineConfig(model_path=str(model_path), model=FACENET_CASIA, backend="torch"))


@pytest.fixture(scope="session")
def photo(face_data: Path):
    """photo("Tony_Blair", 1) -> PIL image of that person's first photo (sorted by name)."""

    def load(identity: str, n: int = 1) -> Image.Image:
        path = sorted((face_data / identity).iterdir())[n - 1]
        return Image.open(path).convert("RGB")

    return load


def jpeg(image: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92, **params)
    return buf.getvalue()


def door_frame(*faces: Image.Image, face_px: int = 400) -> Image.Image:
    """A 640x480 door-camera frame with the photos enlarged to face_px and side by side."""
    frame = Image.new("RGB", (640, 480), (110, 110, 110))
    x = (640 - face_px * len(faces)) // 2
    for face in faces:
        frame.paste(face.resize((face_px, face_px), Image.BILINEAR), (x, (480 - face_px) // 2))
        x += face_px
    return frame

"""ONNX copies of FaceNet and of MTCNN's PNet for ONNX Runtime, written once at install time.

ONNX Runtime runs FaceNet about twice as fast as torch on the target CPU (docs/face-engine.md).
torch stays the reference: the export is run in ONNX Runtime on fixed inputs (two batch sizes,
to exercise the dynamic axis) and must match torch within ``TOLERANCE``, or it is refused. The
file records the sha256 of the weights it came from, so a replaced state_dict can never run
with a stale export. PNet, which MTCNN runs on every level of an image pyramid, runs ~11%
faster there too; RNet and ONet stay in torch, where they are faster (docs/face-engine.md).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ._torchvision import import_facenet_pytorch
from .convert import load_facenet
from .files import ModelError, atomic_write

OPSET = 17
TOLERANCE = 1e-4
SOURCE_KEY = "justface.source_sha256"  # ONNX metadata: sha256 of the weights file exported
CHECK_SHAPES = ((2, 3, 160, 160), (1, 3, 160, 160))  # fixed inputs compared with torch
# PNet sees pyramid levels of any size: the largest and the smallest of a door frame's.
PNET_CHECK_SHAPES = ((1, 3, 73, 97), (1, 3, 13, 17))
PNET_AXES = {"x": {2: "h", 3: "w"}, "reg": {2: "oh", 3: "ow"}, "prob": {2: "oh", 3: "ow"}}


def facenet_path(onnx_dir: str | os.PathLike[str], state_path: str | os.PathLike[str]) -> Path:
    return Path(onnx_dir) / f"{Path(state_path).stem}.onnx"


def sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_onnx(onnx_dir: str | os.PathLike[str], state_path: str | os.PathLike[str]) -> Path:
    """Export FaceNet with the weights of ``state_path`` into ``onnx_dir`` unless an export of
    exactly those weights is there; return its path. Idempotent and atomic (written beside
    the target, then renamed)."""
    source = sha256(state_path)
    target = facenet_path(onnx_dir, state_path)
    if recorded_source(target) != source:
        export_verified(lambda: load_facenet(state_path), target, source)
    return target


def pnet_path(onnx_dir: str | os.PathLike[str]) -> Path:
    return Path(onnx_dir) / "mtcnn-pnet.onnx"


def pnet_weights() -> Path:
    """PNet's state_dict as the facenet-pytorch wheel ships it."""
    return Path(import_facenet_pytorch().__file__).parent / "data" / "pnet.pt"


def install_pnet_onnx(onnx_dir: str | os.PathLike[str]) -> Path:
    """Export MTCNN's PNet (the wheel's weights) into ``onnx_dir`` unless it is there; as
    install_onnx."""
    source = sha256(pnet_weights())
    target = pnet_path(onnx_dir)
    if recorded_source(target) != source:
        pnet = import_facenet_pytorch().PNet
        export_verified(pnet, target, source, shapes=PNET_CHECK_SHAPES, outputs=("reg", "prob"), axes=PNET_AXES)
    return target


def recorded_source(path: Path) -> str | None:
    """The weights digest an existing export records (None if there is no readable file)."""
    if not path.is_file():
        return None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a damaged file is simply exported again
        return None
    return {p.key: p.value for p in model.metadata_props}.get(SOURCE_KEY)


def export_verified(
    build: Callable[[], torch.nn.Module],
    target: Path,
    source: str,
    *,
    shapes: tuple[tuple[int, ...], ...] = CHECK_SHAPES,
    outputs: tuple[str, ...] = ("y",),
    axes: dict[str, dict[int, str]] | None = None,
) -> None:
    """Export ``build()`` (NCHW float input ``x``; by default the batch axis free) to ONNX,
    check ONNX Runtime against torch on fixed inputs of ``shapes``, every output, then write it
    atomically. Raises ModelError, leaving nothing behind, if they differ."""
    model = build().eval()
    generator = torch.Generator().manual_seed(0)
    # In the nets' standardised range [-1, 1].
    inputs = [torch.rand(shape, generator=generator) * 2 - 1 for shape in shapes]
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model,
            (inputs[0],),
            buffer,
            input_names=["x"],
            output_names=list(outputs),
            dynamic_axes=axes or {name: {0: "n"} for name in ("x", *outputs)},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, {SOURCE_KEY: source})
    data = proto.SerializeToString()
    # A fresh module for the reference: the export must reproduce what the model computes,
    # not what one traced call happened to do.
    reference = build().eval()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    for x in inputs:
        with torch.no_grad():
            expected = reference(x)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {"x": x.numpy()})
        worst = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected, strict=True))
        if not worst <= TOLERANCE:  # also refuses NaN
            raise ModelError(
                f"ONNX export of {target.name} refused: ONNX Runtime differs from torch by "
                f"{worst:.3g} (allowed {TOLERANCE:g}) on input {tuple(x.shape)}. Use "
                "FACE_BACKEND=torch until the export is fixed."
            )
    atomic_write(target, lambda fh: fh.write(data))

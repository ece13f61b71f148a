"""ONNX copies of the face nets for ONNX Runtime, written once at install time.

ONNX Runtime runs these nets about twice as fast as torch on the target CPU
(docs/face-engine.md). torch stays the reference: every export is run in ONNX Runtime on fixed
inputs (including a second batch size or image size, to exercise the dynamic axes) and must
match torch within ``TOLERANCE``, or it is refused. Each file records the sha256 of the weights
it came from, so a replaced state_dict can never run with a stale export.
"""
from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ._torchvision import import_facenet_pytorch
from .convert import ModelError, atomic_write, load_facenet

OPSET = 17
TOLERANCE = 1e-4
SOURCE_KEY = "justface.source_sha256"  # ONNX metadata: sha256 of the weights file exported


@dataclass(frozen=True)
class Net:
    """How one net is exported: its ONNX input/outputs, dynamic axes and check inputs."""

    outputs: tuple[str, ...]
    dynamic: dict[int, str]  # input axes that vary; outputs vary along the same ones
    checks: tuple[tuple[int, ...], ...]  # shapes of the fixed inputs compared with torch

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        # Outputs share the batch axis; PNet's maps also share height and width (their sizes
        # differ from the input's, so they get names of their own).
        out = {0: "n"} if list(self.dynamic) == [0] else {0: "n", 2: "oh", 3: "ow"}
        return {"x": self.dynamic, **{name: out for name in self.outputs}}


FACENET = Net(outputs=("y",), dynamic={0: "n"}, checks=((2, 3, 160, 160), (1, 3, 160, 160)))
# MTCNN: PNet runs on each level of the image pyramid, RNet/ONet on batches of candidates.
MTCNN = {
    "pnet": Net(outputs=("reg", "prob"), dynamic={0: "n", 2: "h", 3: "w"}, checks=((1, 3, 61, 83), (1, 3, 24, 17))),
    "rnet": Net(outputs=("reg", "prob"), dynamic={0: "n"}, checks=((5, 3, 24, 24), (1, 3, 24, 24))),
    "onet": Net(outputs=("reg", "landmarks", "prob"), dynamic={0: "n"}, checks=((3, 3, 48, 48), (1, 3, 48, 48))),
}


def facenet_path(onnx_dir: str | os.PathLike[str], state_path: str | os.PathLike[str]) -> Path:
    return Path(onnx_dir) / f"{Path(state_path).stem}.onnx"


def mtcnn_path(onnx_dir: str | os.PathLike[str], name: str) -> Path:
    return Path(onnx_dir) / f"mtcnn-{name}.onnx"


def mtcnn_weights(name: str) -> Path:
    """facenet-pytorch's own MTCNN weights file (shipped in its wheel)."""
    import_facenet_pytorch()
    import facenet_pytorch

    return Path(facenet_pytorch.__file__).parent / "data" / f"{name}.pt"


def sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_onnx(onnx_dir: str | os.PathLike[str], state_path: str | os.PathLike[str]) -> None:
    """Export FaceNet (from ``state_path``) and MTCNN into ``onnx_dir`` where missing or stale.
    Idempotent; each file is written beside its target and renamed into place."""
    fp = import_facenet_pytorch()
    facenet_source = sha256(state_path)
    target = facenet_path(onnx_dir, state_path)
    if recorded_source(target) != facenet_source:
        export_verified(lambda: load_facenet(state_path), FACENET, target, facenet_source)
    nets = {"pnet": fp.PNet, "rnet": fp.RNet, "onet": fp.ONet}
    for name, spec in MTCNN.items():
        source = sha256(mtcnn_weights(name))
        if recorded_source(mtcnn_path(onnx_dir, name)) != source:
            export_verified(nets[name], spec, mtcnn_path(onnx_dir, name), source)


def recorded_source(path: Path) -> str | None:
    """The weights digest an existing export records (None if there is no readable file)."""
    if not path.is_file():
        return None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a damaged file is simply exported again
        return None
    return {p.key: p.value for p in model.metadata_props}.get(SOURCE_KEY)


def export_verified(build: Callable[[], torch.nn.Module], net: Net, target: Path, source: str) -> None:
    """Export ``build()`` to ONNX, check ONNX Runtime against torch on fixed inputs, then
    write it atomically. Raises ModelError, leaving nothing behind, if they differ."""
    model = build().eval()
    inputs = _check_inputs(net.checks)
    buffer = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            model, (inputs[0],), buffer, input_names=["x"], output_names=list(net.outputs),
            dynamic_axes=net.dynamic_axes(), opset_version=OPSET, dynamo=False,
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
            expected = _as_tuple(reference(x))
        got = session.run(None, {"x": x.numpy()})
        worst = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected, strict=True))
        if not worst <= TOLERANCE:  # also refuses NaN
            raise ModelError(
                f"ONNX export of {target.name} refused: ONNX Runtime differs from torch by "
                f"{worst:.3g} (allowed {TOLERANCE:g}) on input {tuple(x.shape)}. Use "
                "FACE_BACKEND=torch until the export is fixed."
            )
    atomic_write(target, lambda fh: fh.write(data))


def _check_inputs(shapes: Sequence[tuple[int, ...]]) -> list[torch.Tensor]:
    """Fixed inputs in the nets' standardised range [-1, 1]."""
    generator = torch.Generator().manual_seed(0)
    return [torch.rand(shape, generator=generator) * 2 - 1 for shape in shapes]


def _as_tuple(out: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return out if isinstance(out, tuple) else (out,)

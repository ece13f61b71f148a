"""Weights: the CASIA-WebFace graph converts exactly, installs idempotently, fails clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from justface.face import convert, export
from justface.face.convert import ModelError
from justface.face.install import install_facenet


@pytest.mark.parametrize("backend", ["torch_engine", "facenet_engine"])  # the state_dict, its ONNX export
def test_converted_model_equals_opencv_run_of_the_graph(request, photo, backend):
    """The proof of a correct conversion: same face crop, same input, same 512 numbers."""
    cv2 = pytest.importorskip("cv2")
    engine = request.getfixturevalue(backend)
    image = photo("Colin_Powell", 1)
    crop = engine.crop(image, engine.detector.detect(image, 40, 640)[0])
    blob = ((crop.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]

    net = cv2.dnn.readNetFromTensorflow(str(convert.graph_path()))
    net.setInput(blob)
    opencv = net.forward("embeddings")  # the graph's L2-normalised output
    ours = engine.embed(crop[None])  # InceptionResnetV1(classify=False): also L2-normalised

    assert opencv.shape == ours.shape == (1, 512)
    assert np.abs(opencv - ours).max() < 1e-4


def test_state_dict_layout(model_path):
    state = torch.load(model_path, weights_only=True)
    assert len(state) == 714
    assert not any(key.startswith("logits.") for key in state)
    # Batch-norm folded into the convolutions: each BatchNorm2d is the identity plus offset.
    bn = "repeat_2.3.branch1.1.bn"
    assert torch.equal(state[f"{bn}.weight"], torch.ones(128))
    assert torch.equal(state[f"{bn}.running_mean"], torch.zeros(128))
    assert torch.equal(torch.sqrt(state[f"{bn}.running_var"] + 1e-3), torch.ones(128))


def test_install_is_idempotent(model_path):
    files = [model_path, export.facenet_path(model_path.parent, model_path), export.pnet_path(model_path.parent)]
    before = [f.stat().st_mtime_ns for f in files]
    assert install_facenet(model_path.parent) == model_path
    assert [f.stat().st_mtime_ns for f in files] == before


def test_graph_with_wrong_checksum_is_refused(tmp_path):
    fake = tmp_path / "graph_final.pb"
    fake.write_bytes(b"\x0a\x05\x0a\x01x\x12\x00")
    with pytest.raises(ModelError, match="sha256"):
        convert.read_verified_graph(fake)


def test_state_dict_path_is_used_as_is(model_path, tmp_path):
    assert install_facenet(tmp_path, str(model_path)) == model_path
    # Its ONNX export goes into the cache directory, recording which weights it came from.
    onnx_file = export.facenet_path(tmp_path, model_path)
    assert export.recorded_source(onnx_file) == export.sha256(model_path)
    # So does MTCNN's PNet, from the weights in the facenet-pytorch wheel.
    assert export.recorded_source(export.pnet_path(tmp_path)) == export.sha256(export.pnet_weights())
    assert not list(tmp_path.glob("*.tmp"))


def test_unknown_model_says_what_is_accepted(tmp_path):
    with pytest.raises(ModelError, match="casia-webface"):
        install_facenet(tmp_path, "no-such-model")


def test_vggface2_offline_says_what_to_do(tmp_path, monkeypatch):
    from justface.face._torchvision import import_facenet_pytorch

    import_facenet_pytorch()
    from facenet_pytorch.models.utils import download

    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(download, "download_url_to_file", offline)
    with pytest.raises(
        ModelError, match="and copy it to .*vggface2-20180402-114759.pt, or use JUSTFACE_FACE_MODEL=sface"
    ):
        install_facenet(tmp_path, convert.VGGFACE2)
    assert not list(tmp_path.rglob("*.pt"))  # nothing half-written left behind

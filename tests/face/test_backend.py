"""The ONNX Runtime backend against the torch reference, and the export's own checks."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from threadpoolctl import threadpool_info, threadpool_limits

from justface.face import backend, export, ort, sface
from justface.face.backend import TorchFaceNet
from justface.face.config import EngineConfig
from justface.face.convert import ModelError
from justface.face.engine import FaceEngine
from justface.face.evaluate import image_files
from justface.face.recognizers import FACENET_CASIA

from .conftest import door_frame, jpeg


def test_default_backend_is_onnxruntime(engine, facenet_engine, torch_engine):
    assert engine.config.backend == "onnxruntime"
    assert isinstance(engine.recognizer._net, sface.SFaceNet)
    assert isinstance(facenet_engine.recognizer._net, ort.OrtFaceNet)
    assert isinstance(engine.detector._nets[0], ort.OrtPNet)
    assert isinstance(torch_engine.recognizer._net, TorchFaceNet)


def test_blas_threads_follow_the_inference_threads(model_path):
    """numpy's BLAS gets the engine's thread count: its idle threads busy-wait, which under
    load took CPU from the other web processes' inference."""
    with threadpool_limits(limits=None):  # restores this process's limits afterwards
        backend.load(EngineConfig(model=FACENET_CASIA, model_path=str(model_path), num_threads=1))
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and set(blas) == {1}


def test_templates_equal_the_torch_reference_on_real_photos(facenet_engine, torch_engine, face_data):
    """Every dev identity: enrollment photo and door frame give the same template and the
    same detection from both backends."""
    compared = 0
    for paths in image_files(face_data).values():
        for path in paths[:2]:
            image = Image.open(path).convert("RGB")
            for analyse in ("analyse_enrollment", "analyse_door_frame"):
                data = jpeg(image) if analyse == "analyse_enrollment" else door_frame(image)
                ours, reference = getattr(facenet_engine, analyse)(data), getattr(torch_engine, analyse)(data)
                assert ours.reason == reference.reason, path
                if reference.ok:
                    assert np.abs(ours.template - reference.template).max() < 1e-4, path
                    assert np.abs(np.subtract(ours.detection.box, reference.detection.box)).max() < 0.01
                    compared += 1
    assert compared >= 50


def test_batches_equal_the_torch_reference(facenet_engine, torch_engine, photo):
    engine = facenet_engine
    crops = np.stack([engine.photo_crop(photo(p, 1)) for p in ("Colin_Powell", "Hugo_Chavez", "John_Salley")])
    ours = engine.embed(crops)
    assert ours.shape == (3, 512) and ours.dtype == np.float32
    assert np.abs(ours - torch_engine.embed(crops)).max() < 1e-4
    assert np.abs(ours[1] - engine.embed(crops[1:2])[0]).max() < 1e-5  # batch size changes nothing


class Drifting(torch.nn.Module):
    """A model whose output the ONNX trace cannot reproduce: it depends on a Python-side
    counter, which the exporter bakes in as a constant."""

    calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        Drifting.calls += 1
        return x * Drifting.calls


def test_export_refuses_a_model_onnxruntime_does_not_reproduce(tmp_path):
    target = tmp_path / "drifting.onnx"
    with pytest.raises(ModelError, match=r"ONNX Runtime differs from torch by .* \(allowed 0.0001\)"):
        export.export_verified(Drifting, target, source="x")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_export_of_other_weights_is_refused_at_load(model_path, tmp_path):
    """A state_dict replaced after its export must not run with the stale ONNX file."""
    other = tmp_path / model_path.name
    shutil.copy(model_path, other)  # same name: the existing export is the one it would use
    state = torch.load(other, weights_only=True)
    state["last_bn.bias"] += 0.5
    torch.save(state, other)
    with pytest.raises(ModelError, match="exported from other weights; run `python manage.py install_face_model`"):
        FaceEngine(EngineConfig(model=FACENET_CASIA, model_path=str(other), onnx_dir=str(model_path.parent)))


def test_missing_export_says_what_to_do(model_path, tmp_path):
    with pytest.raises(ModelError, match="run `python manage.py install_face_model`"):
        FaceEngine(EngineConfig(model=FACENET_CASIA, model_path=str(model_path), onnx_dir=str(tmp_path)))


def test_unknown_backend_is_refused(model_path):
    with pytest.raises(ModelError, match="unknown face backend 'tensorflow': use one of onnxruntime, torch"):
        FaceEngine(EngineConfig(model=FACENET_CASIA, model_path=str(model_path), backend="tensorflow"))

"""manage.py evaluate_faces: bad input refused in one line, the open-set options, and one
end-to-end run on the real dev photos."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from justface.face.evaluate import FolderTemplates
from justface.management.commands import evaluate_faces

OLD_KEYS = {
    "identities",
    "templates",
    "genuine",
    "impostor",
    "auc",
    "fnmr_at_fmr",
    "thresholds",
    "fmr_floor",
    "policy",
    "rank1",
    "identification",
    "impostors_accepted_at_default",
    "failed_to_template",
}
OPEN_SET_KEYS = {
    "gallery_size",
    "member_probes",
    "members_accepted",
    "members_confirm",
    "misidentified",
    "stranger_probes",
    "strangers_accepted",
    "strangers_confirm",
    "members_accepted_rate",
    "strangers_accepted_rate",
    "strangers_accepted_ci95",
    "members_accepted_ci95",
    "det",
    "members_admitted_at_strangers",
}
PNG = b"\x89PNG\r\n\x1a\n"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("evaluate_faces", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "args, words",
    [
        (["{dir}", "--enroll", "0"], "--enroll must be at least 1"),
        (["{dir}", "--open-set", "--gallery", "0"], "--gallery must be at least 1"),
        (["{dir}/missing"], "is not a folder"),
        (["{dir}", "--open-set", "--strangers", "{dir}/nobody"], "--strangers: .* is not a folder"),
        (["{dir}", "--gallery", "5"], "need --open-set"),
        (["{dir}", "--plot", "{dir}/no/such/det.png"], "--plot: the folder"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, words):
    with pytest.raises(CommandError, match=words) as caught:
        run(*(a.format(dir=tmp_path) for a in args))
    assert "\n" not in str(caught.value)


def unit_rows(rng, centre, n, noise=0.02):
    t = centre + noise * rng.standard_normal((n, len(centre)))
    return (t / np.linalg.norm(t, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """Folders whose templates are made up: 8 people x 3 photos, 1 person x 1 photo; a
    strangers folder of 3 people x 2 photos. No photo is read. (512-d only because the
    leave-out part of evaluate() still builds a Gallery; the open-set code takes any d.)"""
    rng = np.random.default_rng(5)
    folders = {
        "faces": {f"p{i}": unit_rows(rng, rng.standard_normal(512), 3) for i in range(8)}
        | {"single": unit_rows(rng, rng.standard_normal(512), 1)},
        "others": {f"s{i}": unit_rows(rng, rng.standard_normal(512), 2) for i in range(3)},
    }
    for name in folders:
        (tmp_path / name).mkdir()

    def fake_template_folder(folder, engine, **kwargs):
        t = folders[str(folder).rsplit("/", 1)[-1]]
        return FolderTemplates(t, {i: [f"{n}.jpg" for n in range(len(v))] for i, v in t.items()})

    monkeypatch.setattr(evaluate_faces, "template_folder", fake_template_folder)
    return tmp_path


def test_open_set_with_gallery_and_strangers_folder(synthetic):
    out, _ = run(
        str(synthetic / "faces"),
        "--open-set",
        "--enroll",
        "1",
        "--gallery",
        "5",
        "--strangers",
        str(synthetic / "others"),
        "--json",
    )
    report = json.loads(out)
    assert OLD_KEYS <= report.keys() and OPEN_SET_KEYS <= report["open_set"].keys()
    r = report["open_set"]
    assert r["gallery_size"] == 5 and r["member_probes"] == 5 * 2
    # 3 eligible people not chosen (3 photos each), "single" (1), the strangers folder (3 x 2).
    assert r["stranger_probes"] == 3 * 3 + 1 + 3 * 2
    assert r["protocol"]["strangers_by_source"] == {
        "too_few_photos": 1,
        "not_chosen_for_gallery": 3,
        "strangers_folder": 3,
    }
    assert r["members_accepted"] == 10 and r["strangers_accepted"] == 0
    assert r["strangers_accepted_ci95"][0] == 0 and 0.15 < r["strangers_accepted_ci95"][1] < 0.25
    text, _ = run(str(synthetic / "faces"), "--open-set", "--gallery", "5")
    assert "ROC AUC" in text and "Open set: gallery of 5 members" in text


def test_without_open_set_the_json_is_unchanged(synthetic):
    report = json.loads(run(str(synthetic / "faces"), "--json")[0])
    assert report.keys() == OLD_KEYS | {"model"}  # the model evaluated is named too


def test_end_to_end_on_dev_photos(face_data, tmp_path):
    """One real run (templating dev takes a while on 2 cores), then the same from the cache."""
    plot, cache = tmp_path / "det.png", tmp_path / "dev.npz"
    args = [
        str(face_data),
        "--open-set",
        "--enroll",
        "3",
        "--gallery",
        "10",
        "--json",
        "--plot",
        str(plot),
        "--cache",
        str(cache),
    ]
    out, err = run(*args)
    report = json.loads(out)
    assert OLD_KEYS <= report.keys() and report["identities"] == 15 and report["auc"] > 0.999
    r = report["open_set"]
    assert r["gallery_size"] == 10 and r["member_probes"] in range(10 * 7, 10 * 8 + 1)
    assert r["stranger_probes"] in range(5 * 10, 5 * 11 + 1)
    assert r["members_accepted_rate"] > 0.9 and r["strangers_accepted"] == 0 and r["misidentified"] == 0
    assert plot.read_bytes()[:8] == PNG and cache.is_file()
    again, err = run(*args)
    assert "read from" in err and json.loads(again) == report


def test_either_model_is_evaluated_with_its_own_policy(face_data, tmp_path):
    """--model: the CASIA FaceNet (512-d, its own 0.60/0.10) beside the default SFace, on real
    photos; each model's templates are cached under its own id."""
    cache = tmp_path / "dev.npz"
    reports = {
        m: json.loads(run(str(face_data), "--model", m, "--json", "--cache", str(cache))[0])
        for m in ("facenet-casia", "sface")
    }
    assert reports["facenet-casia"]["model"] == "facenet-casia" and reports["sface"]["model"] == "sface"
    assert reports["facenet-casia"]["policy"] == {"threshold": 0.60, "margin": 0.10}
    assert reports["sface"]["policy"] == {"threshold": 0.55, "margin": 0.05}
    # SFace is the stronger model on these photos too (FNMR at FMR 1e-3: 0.41% against 0.83%).
    assert reports["sface"]["fnmr_at_fmr"]["1e-3"] < reports["facenet-casia"]["fnmr_at_fmr"]["1e-3"] <= 0.02
    assert reports["sface"]["impostors_accepted_at_default"] == 0
    with pytest.raises(CommandError, match="invalid choice: 'insightface'"):
        run(str(face_data), "--model", "insightface")

"""Face engine speed and memory on this machine, for each face model.

    python bench/face_bench.py [--json] [--model sface|facenet-casia ...] [--backend onnxruntime|torch] [--threads N]

Door frames are the dev photos enlarged and placed on a 640x480 canvas. For each model: door
frame -> template through our engine, and the same work done with the raw libraries
(facenet-pytorch's MTCNN class on the full frame, then OpenCV's FaceRecognizerSF for SFace or
facenet-pytorch's crop and InceptionResnetV1 in torch for FaceNet), in the same run. The 1:N
search runs on random templates of each model's width. Environment: JUSTFACE_FACE_DATA
(labelled photos; default ../shared/faces/dev beside the repo) and JUSTFACE_DATA_DIR (default
<repo>/var; the model cache is its "models" folder).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from justface.face import sface  # noqa: E402
from justface.face._torchvision import import_facenet_pytorch  # noqa: E402
from justface.face.backend import BACKENDS  # noqa: E402
from justface.face.config import EngineConfig  # noqa: E402
from justface.face.convert import load_facenet  # noqa: E402
from justface.face.engine import FaceEngine, get_engine  # noqa: E402
from justface.face.evaluate import image_files  # noqa: E402
from justface.face.gallery import Gallery  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.liveness import fft_ratio  # noqa: E402
from justface.face.recognizers import FACENET_CASIA, SFACE  # noqa: E402

GALLERY_SIZES = (1_000, 10_000, 100_000)


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median": float(np.median(samples)), "p95": float(np.percentile(samples, 95))}


def reference_ms() -> float:
    """A fixed pure-Python workload: a yardstick for the machine's speed at the moment (this
    VM's speed drifts), printed beside the figures so that runs can be compared."""
    return timed(lambda: sum(i * i for i in range(200_000)), runs=9, warmup=1)["median"]


def door_frame(path: Path) -> Image.Image:
    """The photo scaled to the frame height (a face of about 200 px, a person at the door)
    and centred on a grey 640x480 canvas."""
    photo = Image.open(path).convert("RGB").resize((480, 480), Image.BILINEAR)
    frame = Image.new("RGB", (640, 480), (110, 110, 110))
    frame.paste(photo, (80, 0))
    return frame


def door_frames(folder: Path, count: int) -> list[Image.Image]:
    """Door frames of the first two photos of each person, ``count`` at most."""
    return [door_frame(p) for paths in image_files(folder).values() for p in paths[:2]][:count]


def unit_vectors(n: int, seed: int, dim: int) -> np.ndarray:
    """Random templates, made in chunks so temporaries do not inflate the peak RSS."""
    rng = np.random.default_rng(seed)
    m = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 10_000):
        chunk = rng.standard_normal((min(10_000, n - start), dim), dtype=np.float32)
        m[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return m


def raw_library(model: str, models_dir: Path, threads: int) -> Callable[[Image.Image], np.ndarray]:
    """Door frame -> template the way the libraries are used out of the box: facenet-pytorch's
    MTCNN on the full frame, then OpenCV's SFace pipeline (alignCrop + feature, on the file as
    shipped) or facenet-pytorch's crop and InceptionResnetV1 in torch."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    fp = import_facenet_pytorch()
    mtcnn = fp.MTCNN(image_size=160, margin=32, min_face_size=80, post_process=True)
    if model == SFACE:
        recognizer = cv2.FaceRecognizerSF.create(str(models_dir / sface.FILE), "")

        def run(frame: Image.Image) -> np.ndarray:
            boxes, probs, points = mtcnn.detect(frame, landmarks=True)
            (x1, y1, x2, y2), landmarks = boxes[0], points[0]
            row = np.array([[x1, y1, x2 - x1, y2 - y1, *landmarks.ravel(), probs[0]]], np.float32)
            bgr = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR)
            return recognizer.feature(recognizer.alignCrop(bgr, row))

        return run
    facenet = load_facenet(install(models_dir, model))

    def run(frame: Image.Image) -> np.ndarray:
        with torch.inference_mode():
            return facenet(mtcnn(frame)[None]).numpy()

    return run


def bench_model(model: str, backend: str, threads: int, frames: list[Image.Image], models_dir: Path) -> dict:
    engine: FaceEngine = get_engine(
        EngineConfig(
            model_path=str(install(models_dir, model)),
            model=model,
            backend=backend,
            num_threads=threads,
            onnx_dir=str(models_dir),
        )
    )
    frame_iter = iter(frames * 100)
    door = timed(lambda: engine.analyse_door_frame(next(frame_iter)), runs=100, warmup=5)
    # The same with the passive liveness check; threshold 0 so that every frame also
    # gets its template: the difference of the medians is what the check adds to a door frame.
    door_live = timed(lambda: engine.analyse_door_frame(next(frame_iter), liveness_threshold=0.0), runs=100, warmup=5)
    door_again = timed(lambda: engine.analyse_door_frame(next(frame_iter)), runs=100, warmup=5)
    faces = [(f, engine.detector.detect(f, 80, 320)[0]) for f in frames[:16]]
    face_iter = iter(faces * 100)
    passive = timed(lambda: engine.passive.cues(*next(face_iter)), runs=100, warmup=5)  # both cues
    rgb_faces = [(np.asarray(f), face.box) for f, face in faces]
    rgb_iter = iter(rgb_faces * 100)
    fft_cue = timed(lambda: fft_ratio(*next(rgb_iter)), runs=100, warmup=5)
    detect = timed(lambda: engine.detector.detect(next(frame_iter), 80, 320), runs=100, warmup=5)
    failures = [r.reason for r in map(engine.analyse_door_frame, frames) if not r.ok]
    crops = np.stack([engine.crop(f, engine.detector.detect(f, 80, 320)[0]) for f in frames[:16]])
    embed = timed(lambda: engine.embed(crops[:1]), runs=50)
    batch16 = timed(lambda: engine.embed(crops), runs=10)
    raw = raw_library(model, models_dir, threads)
    raw_door = timed(lambda: raw(next(frame_iter)), runs=30, warmup=3)

    search, gallery_mb = {}, {}
    probes = unit_vectors(200, seed=1, dim=engine.dim)
    for n in GALLERY_SIZES:
        gallery = Gallery(range(n), unit_vectors(n, seed=n, dim=engine.dim))
        probe_iter = iter(np.tile(probes, (2, 1)))
        search[str(n)] = timed(lambda g=gallery: g.search(next(probe_iter)), runs=100, warmup=10)
        gallery_mb[str(n)] = gallery.nbytes / 2**20
        del gallery  # before the next, larger one: keeps the peak RSS honest
    return {
        "door_frame_ms": door,
        "door_frame_liveness_ms": door_live,
        "door_frame_again_ms": door_again,
        # Added by the passive check: with liveness minus the mean of the runs before and after.
        "liveness_added_ms": door_live["median"] - (door["median"] + door_again["median"]) / 2,
        "passive_liveness_ms": passive,
        "fft_cue_ms": fft_cue,
        "raw_library_door_frame_ms": raw_door,
        "detect_ms": detect,
        "embed_ms": embed,
        "batch16_ms": batch16,
        "search_ms": search,
        "gallery_mb": gallery_mb,
        "dim": engine.dim,
        "door_frame_failures": len(failures),
        "frames": len(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--model",
        action="append",
        choices=(SFACE, FACENET_CASIA),
        help="face model to measure (repeat for several; default both)",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default=BACKENDS[0], help="inference backend (default %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    args = parser.parse_args()

    folder = Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev"))
    if not folder.is_dir():
        sys.exit(f"No face photos at {folder}: set JUSTFACE_FACE_DATA to the labelled photo folder.")
    models_dir = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    reference_before = reference_ms()
    frames = door_frames(folder, 30)
    models = {
        m: bench_model(m, args.backend, args.threads, frames, models_dir) for m in args.model or (SFACE, FACENET_CASIA)
    }
    report = {
        "models": models,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "backend": args.backend,
        "threads": args.threads,
        # Other processes on these 2 cores slow everything down: judge figures with this.
        "load_average_1min": os.getloadavg()[0],
        # The same fixed workload before and after (ms; lower is a faster machine).
        "reference_ms": {"before": reference_before, "after": reference_ms()},
    }
    if args.json:
        print(json.dumps(report))
        return
    for model, r in models.items():
        print(f"== {model} ({r['dim']}-d)")
        print(
            f"door frame 640x480 -> template: {_ms(r['door_frame_ms'])} "
            f"({r['door_frame_failures']} of {r['frames']} frames refused)"
        )
        print(
            f"  with passive liveness:        {_ms(r['door_frame_liveness_ms'])} "
            f"(adds {r['liveness_added_ms']:.1f} ms to "
            f"the median; without, again: {_ms(r['door_frame_again_ms'])})"
        )
        print(
            f"  passive liveness alone:       {_ms(r['passive_liveness_ms'])} (MiniFASNetV2 + FFT cue; target <= 6 ms)"
        )
        print(f"    of which the FFT cue:       {_ms(r['fft_cue_ms'])}")
        print(f"  the raw libraries, same work: {_ms(r['raw_library_door_frame_ms'])}")
        print(f"  of which detection (MTCNN):   {_ms(r['detect_ms'])}")
        print(f"one template:                   {_ms(r['embed_ms'])}")
        print(
            f"batch of 16 templates:          {_ms(r['batch16_ms'])} ({r['batch16_ms']['median'] / 16:.1f} ms per face)"
        )
        for n in GALLERY_SIZES:
            print(
                f"1:N top-2 search, {n:>7,} templates: {_ms(r['search_ms'][str(n)])}, "
                f"gallery {r['gallery_mb'][str(n)]:.0f} MB"
            )
    print(
        f"peak RSS: {report['peak_rss_mb']:.0f} MB (backend {args.backend}, {args.threads} threads, "
        f"load average {report['load_average_1min']:.2f})"
    )
    print(
        f"machine yardstick (fixed Python loop): {report['reference_ms']['before']:.1f} ms before, "
        f"{report['reference_ms']['after']:.1f} ms after"
    )


def _ms(t: dict[str, float]) -> str:
    return f"median {t['median']:.1f} ms, p95 {t['p95']:.1f} ms"


if __name__ == "__main__":
    main()

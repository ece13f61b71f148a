"""Face engine speed and memory on this machine.

    python bench/face_bench.py [--json] [--backend onnxruntime|torch] [--threads N]

Door frames are the dev photos enlarged and placed on a 640x480 canvas. Environment:
JUSTFACE_FACE_DATA (labelled photos; default ../shared/faces/dev beside the repo) and
JUSTFACE_DATA_DIR (default <repo>/var; the model cache is its "models" folder).
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

from justface.face.backend import BACKENDS  # noqa: E402
from justface.face.config import EngineConfig  # noqa: E402
from justface.face.convert import install_model  # noqa: E402
from justface.face.engine import get_engine  # noqa: E402
from justface.face.evaluate import image_files  # noqa: E402
from justface.face.gallery import DIM, Gallery  # noqa: E402

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


def unit_vectors(n: int, seed: int) -> np.ndarray:
    """Random templates, made in chunks so temporaries do not inflate the peak RSS."""
    rng = np.random.default_rng(seed)
    m = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 10_000):
        chunk = rng.standard_normal((min(10_000, n - start), DIM), dtype=np.float32)
        m[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0], help="inference backend (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    args = parser.parse_args()

    folder = Path(os.environ.get("JUSTFACE_FACE_DATA", REPO.parent / "shared" / "faces" / "dev"))
    if not folder.is_dir():
        sys.exit(f"No face photos at {folder}: set JUSTFACE_FACE_DATA to the labelled photo folder.")
    data_dir = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var"))
    model = install_model(data_dir / "models")
    engine = get_engine(EngineConfig(model_path=str(model), backend=args.backend, num_threads=args.threads))

    reference_before = reference_ms()
    frames = door_frames(folder, 30)
    frame_iter = iter(frames * 100)
    door = timed(lambda: engine.analyse_door_frame(next(frame_iter)), runs=100, warmup=5)
    detect = timed(lambda: engine.detector.detect(next(frame_iter), 80, 320), runs=100, warmup=5)
    failures = [r.reason for r in map(engine.analyse_door_frame, frames) if not r.ok]

    crops = np.stack(
        [engine.crop(f, engine.detector.detect(f, 80, 320)[0]) for f in frames[:16]]
    )
    embed = timed(lambda: engine.embed(crops[:1]), runs=50)
    batch16 = timed(lambda: engine.embed(crops), runs=10)

    search, gallery_mb = {}, {}
    probes = unit_vectors(200, seed=1)
    for n in GALLERY_SIZES:
        gallery = Gallery(range(n), unit_vectors(n, seed=n))
        probe_iter = iter(np.tile(probes, (2, 1)))
        search[str(n)] = timed(lambda: gallery.search(next(probe_iter)), runs=100, warmup=10)
        gallery_mb[str(n)] = gallery.nbytes / 2**20
        del gallery

    report = {
        "door_frame_ms": door,
        "detect_ms": detect,
        "embed_ms": embed,
        "batch16_ms": batch16,
        "search_ms": search,
        "gallery_mb": gallery_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "door_frame_failures": len(failures),
        "backend": engine.config.backend,
        "threads": engine.config.num_threads,
        # Other processes on these 2 cores slow everything down: judge figures with this.
        "load_average_1min": os.getloadavg()[0],
        # The same fixed workload before and after (ms; lower is a faster machine).
        "reference_ms": {"before": reference_before, "after": reference_ms()},
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"door frame 640x480 -> template: {_ms(door)} ({len(failures)} of {len(frames)} frames refused)")
    print(f"  of which detection (MTCNN):   {_ms(detect)}")
    print(f"one template (160x160 crop):    {_ms(embed)}")
    print(f"batch of 16 templates:          {_ms(batch16)} ({batch16['median'] / 16:.1f} ms per face)")
    for n in GALLERY_SIZES:
        print(f"1:N top-2 search, {n:>7,} templates: {_ms(search[str(n)])}, gallery {gallery_mb[str(n)]:.0f} MB")
    print(f"peak RSS: {report['peak_rss_mb']:.0f} MB (backend {engine.config.backend}, "
          f"{engine.config.num_threads} threads, load average {report['load_average_1min']:.2f})")
    print(f"machine yardstick (fixed Python loop): {report['reference_ms']['before']:.1f} ms before, "
          f"{report['reference_ms']['after']:.1f} ms after")


def _ms(t: dict[str, float]) -> str:
    return f"median {t['median']:.1f} ms, p95 {t['p95']:.1f} ms"


if __name__ == "__main__":
    main()

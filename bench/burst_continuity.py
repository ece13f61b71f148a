"""Where the head-turn challenge's continuity thresholds come from: frame-to-frame
measures on pairs of frames of ONE capture against pairs of DIFFERENT photos of one person.

    python bench/burst_continuity.py [--faces DIR] [--pad DIR] [--pad2 DIR] [--json] [--raw PATH]

Measures (justface/face/liveness.py, as check_burst uses them), per pair of frames:

* ``diff``: mean absolute grey difference at full resolution (frame_difference);
* ``scene``: normalised correlation of the scene outside both face boxes (scene_similarity);
* ``face``: template similarity (SFace cosine) of the two faces;
* ``yaw``: the absolute yaw step between the two.

Pairs:

* ``capture``: consecutive frames of one continuous capture, the closest the shared data has to
  a live burst: pad/dev's td_* bona fide selfie videos (frames ~1.2-1.5 s apart, hand-held
  phone: more change than a kiosk's 200 ms), its td_* replay videos (a second phone filming
  a screen) and NUAA's webcam frames of one session/position/glasses group (bona fide and
  print, frames several seconds apart), and pad/dev2's gh_* webcam frames (one person's webcam
  video, frames ~0.6 s apart, and enrolment stills) and gh_* replays (a phone held up to a webcam);
* ``photos``: two different photos of one person: every pair of faces/dev (press photos), NUAA
  bona fide frames of different sessions or positions (same webcam, other day or light), and a
  td_* person's selfie photo against their video's frames;
* ``reencoded``: one photo against itself re-encoded as JPEG quality 70 (a near-repeat).

Printed: percentiles of each measure per kind of pair. Photos are read in place, never copied.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from justface.face import liveness  # noqa: E402
from justface.face.config import EngineConfig  # noqa: E402
from justface.face.engine import get_engine  # noqa: E402
from justface.face.install import install  # noqa: E402
from justface.face.liveness_eval import load  # noqa: E402
from justface.face.recognizers import SFACE  # noqa: E402

RULES = liveness.ChallengeRules()


def engine():
    import os

    models = Path(os.environ.get("JUSTFACE_DATA_DIR", REPO / "var")) / "models"
    return get_engine(EngineConfig(model_path=str(install(models, SFACE)), model=SFACE))


class Faces:
    def __init__(self, eng):
        self.eng, self.cache = eng, {}

    def get(self, path: Path):
        if path not in self.cache:
            img = load(path)
            faces = self.eng.detector.detect(img, RULES.min_face_px, self.eng.config.door.detect_max_side)
            if not faces or faces[0].prob < RULES.min_prob:
                self.cache[path] = None
            else:
                t = self.eng.embed(self.eng.crop(img, faces[0])[None])[0]
                self.cache[path] = (img, faces[0], t)
        return self.cache[path]


def measure(a, b) -> dict:
    (ia, fa, ta), (ib, fb, tb) = a, b
    return {
        "diff": liveness.frame_difference(ia, ib),
        "scene": liveness.scene_similarity(ia, fa.box, ib, fb.box),
        "face": float(ta @ tb),
        "yaw": abs(liveness.yaw(np.asarray(fa.landmarks)) - liveness.yaw(np.asarray(fb.landmarks))),
    }


def nuaa_group(path: Path) -> str:
    return "_".join(path.stem.split("_")[1:4])


def pairs(faces_dir: Path, pad_dir: Path, pad2_dir: Path | None):
    out: dict[str, list[tuple[str, Path, Path]]] = {"capture": [], "photos": [], "reencoded": []}
    if pad2_dir is not None and pad2_dir.is_dir():
        for cls in ("bona_fide", "replay"):
            for sub in sorted((pad2_dir / cls).glob("gh_*")):
                files = sorted(sub.glob("*.jpg"))
                out["capture"].extend((f"dev2 gh {cls}", a, b) for a, b in itertools.pairwise(files))
    for cls in ("bona_fide", "replay", "print"):
        for sub in sorted((pad_dir / cls).iterdir()):
            files = sorted(sub.glob("*.jpg"))
            if sub.name.startswith("td_"):
                video = sorted((p for p in files if "_f" in p.stem), key=lambda p: int(p.stem.rsplit("_f", 1)[1]))
                out["capture"].extend((f"td {cls}", a, b) for a, b in itertools.pairwise(video))
                out["photos"].extend(
                    ("td selfie photo vs video", s, v) for s in files if "selfie" in s.stem for v in video
                )
            if sub.name.startswith("nuaa_"):
                groups: dict[str, list[Path]] = {}
                for p in files:
                    groups.setdefault(nuaa_group(p), []).append(p)
                for g in groups.values():
                    g.sort(key=lambda p: int(p.stem.rsplit("_", 1)[1]))
                    out["capture"].extend((f"nuaa {cls}", a, b) for a, b in itertools.pairwise(g))
                if cls == "bona_fide":
                    out["photos"].extend(
                        ("nuaa other session", a, b)
                        for a, b in itertools.combinations(files, 2)
                        if nuaa_group(a) != nuaa_group(b)
                    )
    for person in sorted(p for p in faces_dir.iterdir() if p.is_dir()):
        files = sorted(person.iterdir())
        out["photos"].extend(("faces/dev", a, b) for a, b in itertools.combinations(files, 2))
        out["reencoded"].extend(("faces/dev", p, None) for p in files[:3])
    return out


def reencode(entry):
    img, face, t = entry
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return (Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), face, t)


def summary(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    q = np.percentile(v, [0, 1, 5, 50, 95, 99, 100]) if len(v) else [np.nan] * 7
    return {"n": len(v), **{k: round(float(x), 3) for k, x in zip(("min", "p1", "p5", "p50", "p95", "p99", "max"), q)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", default=str(REPO.parent / "shared" / "faces" / "dev"))
    parser.add_argument("--pad", default=str(REPO.parent / "shared" / "pad" / "dev"))
    parser.add_argument("--pad2", default=str(REPO.parent / "shared" / "pad" / "dev2"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--raw", metavar="PATH", help="also write every pair's measures (JSON) there")
    args = parser.parse_args()
    cache = Faces(engine())
    rows: dict[str, dict[str, list[dict]]] = {}
    for kind, items in pairs(Path(args.faces), Path(args.pad), Path(args.pad2)).items():
        for source, a, b in items:
            fa = cache.get(a)
            fb = reencode(fa) if (b is None and fa is not None) else (cache.get(b) if b is not None else None)
            if fa is None or fb is None:
                continue
            rows.setdefault(kind, {}).setdefault(source, []).append(measure(fa, fb))
    if args.raw:
        Path(args.raw).write_text(json.dumps(rows))
    report = {
        kind: {
            source: {m: summary([r[m] for r in rs]) for m in ("diff", "scene", "face", "yaw")}
            for source, rs in by_source.items()
        }
        for kind, by_source in rows.items()
    }
    if args.json:
        print(json.dumps(report))
        return
    for kind, by_source in report.items():
        for source, measures in by_source.items():
            print(f"{kind} / {source}:")
            for m, s in measures.items():
                print(
                    f"  {m:<5} n={s['n']:<4} min {s['min']:.3f} p1 {s['p1']:.3f} p5 {s['p5']:.3f} "
                    f"p50 {s['p50']:.3f} p95 {s['p95']:.3f} p99 {s['p99']:.3f} max {s['max']:.3f}"
                )


if __name__ == "__main__":
    main()

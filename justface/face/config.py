"""Engine settings as plain frozen dataclasses (hashable: one engine per distinct config).

The figures behind each default are in docs/face-engine.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .gallery import MatchPolicy


@dataclass(frozen=True)
class EnrollmentGate:
    """Floors a member's enrollment photo must pass (each failure has its own reason)."""

    detect_max_side: int = 640  # detection runs on a copy this size; selfies have big faces
    min_face_px: int = 80  # shorter side of the face box, in photo pixels
    min_prob: float = 0.95  # MTCNN face probability; every dev photo scores >= 0.9967
    # Variance of Laplacian of the face box resampled to 128x128. dev photos: min 15.8,
    # 5th percentile 25.9; the same photos after a 2 px Gaussian blur: max 10.5.
    min_sharpness: float = 12.0
    # Mean grey level of the face box, 0-255. dev photos: 59.7-186.9; at 1/4 brightness
    # they read 14-45.
    min_brightness: float = 50.0
    max_brightness: float = 210.0
    # A second face is tolerated only if its box area is below this fraction of the
    # member's face (a stranger far in the background), or if it is not clearly a face.
    max_second_face_area: float = 0.25


@dataclass(frozen=True)
class DoorGate:
    """Rules for a door-camera frame: the dominant face is the one that asks to enter."""

    detect_max_side: int = 320  # a face asking to enter is large: detect on a small copy
    min_face_px: int = 80
    min_prob: float = 0.90
    # Laxer than enrollment: the match threshold, not these floors, guards against errors;
    # these only stop frames too poor to be worth a template.
    min_sharpness: float = 8.0
    min_brightness: float = 35.0
    max_brightness: float = 225.0
    # A second face at least this fraction of the dominant face's area is someone
    # standing as close to the door: refuse rather than guess (tailgating).
    tailgate_face_area: float = 0.5


@dataclass(frozen=True)
class EngineConfig:
    model_path: str  # state_dict file, from convert.install_model()
    # "onnxruntime" runs the ONNX exports install_model() wrote (about twice as fast here);
    # "torch" runs the state_dict itself, the reference those exports are checked against.
    backend: str = "onnxruntime"
    onnx_dir: str = ""  # where install_model() exported them: its cache_dir ("" = model_path's folder)
    num_threads: int = 2  # CPU threads per process for inference (ONNX Runtime intra-op, and torch)
    # Face crop: the MTCNN box grown 1.25x about its centre, then resized to 160x160 without
    # keeping the aspect ratio, which is how the CASIA-WebFace FaceNet was trained (facenet-
    # pytorch's margin=32). dev: FNMR@FMR1e-3 1.4% vs 9.0% for the bare box.
    crop_scale: float = 1.25
    mtcnn_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    mtcnn_factor: float = 0.709
    max_image_pixels: int = 50_000_000  # larger images are refused before decoding
    # 1:N decision, from ../shared/faces/dev with casia-webface (docs/face-engine.md).
    # Members enrolled from photos, probed with door frames (bench/door_accuracy.py): highest
    # impostor score 0.532 (0.593 with facenet-pytorch's detect_face; photo vs photo: 0.511).
    # At 0.60 no impostor was accepted in either protocol, and 89.6% of door probes were
    # accepted with one enrollment photo, 95.8% with three (at 0.55: 93.1% / 96.7%, no
    # stranger let in now, 1-2 with detect_face). The second-best identity must trail by
    # 0.10: a second identity that close to an accepted score is a look-alike, so the door
    # asks for the PIN rather than guess (on dev it refused no genuine probe that margin 0
    # accepted).
    match_threshold: float = 0.60
    match_margin: float = 0.10
    enrollment: EnrollmentGate = field(default_factory=EnrollmentGate)
    door: DoorGate = field(default_factory=DoorGate)

    @property
    def policy(self) -> MatchPolicy:
        return MatchPolicy(self.match_threshold, self.match_margin)

"""Engine settings as plain frozen dataclasses (hashable: one engine per distinct config).

The figures behind each default are in docs/face-engine.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .gallery import MatchPolicy, ScoreTail
from .image import ImageLimits
from .recognizers import FACENET_CASIA, FACENET_VGGFACE2, SFACE

# Threshold and margin per model (cosine scales differ between models): see
# docs/face-engine.md for the figures behind each.
# FaceNet (CASIA-WebFace), from ../shared/faces/dev. Members enrolled from photos, probed with
# door frames (bench/door_accuracy.py): highest impostor score 0.532. At 0.60 no impostor was
# accepted in either protocol, and 89.6% of door probes were accepted with one enrollment
# photo, 95.8% with three. The second-best identity must trail by 0.10: a second identity that
# close to an accepted score is a look-alike, so the door asks for the PIN rather than guess.
# On ../shared/faces/calib (1,000 people) this admits 1.5% of strangers: SFace replaces it.
# SFace, from ../shared/faces/calib (1,000 people, 2 photos each; docs/face-engine.md): the
# highest of 1,992,009 impostor pair scores is 0.535; at 0.55 no stranger of 1,994 was admitted
# by a gallery of 996 members, and 87% of members were (88% with mirrored enrollment).
# The threshold rises with the templates searched (0.55 up to ~3,200, 0.575 at 10,000, 0.625 at
# 100,000): the impostor tail, mirror-averaged enrollments against plain probes (3,984,018
# pairs), fits threshold(FMR) = 0.225 - 0.050 * log10(FMR) between FMR 1e-3 and 1e-6, and N
# templates give a stranger N chances, so a stranger rate of 1e-3 needs FMR 1e-3 / N. Between
# the score that lets 1% of strangers through (at least 0.40) and that threshold, the door asks
# the proposed member's PIN instead of guessing.
SFACE_TAIL = ScoreTail(0.225, 0.050)
MODEL_POLICIES: dict[str, MatchPolicy] = {
    SFACE: MatchPolicy(0.55, 0.05, tail=SFACE_TAIL, stranger_rate=1e-3, confirm_rate=1e-2, confirm_floor=0.40),
    FACENET_CASIA: MatchPolicy(0.60, 0.10),
    FACENET_VGGFACE2: MatchPolicy(0.60, 0.10),
}

# 1:1: a member who already has templates and sends a new enrollment photo. The new photo's
# template must reach this against one of the member's templates of the model, else staff
# review it (a member enrolling someone else's face). Measured by
# bench/enrollment_match.py (docs/face-engine.md): per-pair false-match rate <= 1e-3 / 3 on
# ../shared/faces/calib, so that a stranger's photo passes against a member's three templates
# at most 0.1% of the time. SFace 0.41 (exact 0.401): own photo sent to staff 2.1% (18/857, 95%
# CI 1.3-3.3%), a stranger's photo against two templates accepted 0.042% (669 of 1.58 million);
# on dev 0 of 2,002 strangers, 1 of 98 own photos to staff with three templates. FaceNet CASIA
# 0.59: own photo to staff 16.6% (14.2-19.2%), which is why SFace is the default. VGGFace2:
# None, not measured here (its weights are not installed offline); every replacement photo
# goes to staff until FACE_ENROLLMENT_MATCH_THRESHOLD is set from the bench.
ENROLLMENT_MATCH: dict[str, float | None] = {
    SFACE: 0.41,
    FACENET_CASIA: 0.59,
    FACENET_VGGFACE2: None,
}


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
    # A burst's frames must show one face: the least similar two of their templates must reach
    # this (the same person a fraction of a second apart scores 0.8-0.99 with SFace).
    burst_same_face: float = 0.6
    max_burst: int = 3  # frames per attempt


@dataclass(frozen=True)
class EngineConfig:
    # The recognition model's weights, from install.install(): SFace's prepared ONNX file, or
    # FaceNet's state_dict.
    model_path: str
    model: str = SFACE  # recognizers.MODELS
    # "onnxruntime" runs the ONNX exports install.install() wrote (about twice as fast here);
    # "torch" runs the state_dict itself, the reference those exports are checked against.
    backend: str = "onnxruntime"
    onnx_dir: str = ""  # where install.install() exported them: its cache_dir ("" = model_path's folder)
    num_threads: int = 2  # CPU threads per process for inference (ONNX Runtime intra-op, and torch)
    # FaceNet's face crop: the MTCNN box grown 1.25x about its centre, then resized to 160x160
    # without keeping the aspect ratio, which is how the CASIA-WebFace FaceNet was trained
    # (facenet-pytorch's margin=32). dev: FNMR@FMR1e-3 1.4% vs 9.0% for the bare box. (SFace
    # aligns on the landmarks instead.)
    crop_scale: float = 1.25
    mtcnn_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    mtcnn_factor: float = 0.709
    # What bytes given to the engine may be (image.py: formats, pixels from the header, the size decoded).
    image: ImageLimits = field(default_factory=ImageLimits)
    # 1:N decision; None: the model's calibrated default (MODEL_POLICIES).
    match_threshold: float | None = None  # the floor of the gallery-size threshold
    match_margin: float | None = None
    stranger_rate: float | None = None  # target share of strangers a gallery of any size admits
    confirm_rate: float | None = None  # share of strangers asked for a member's PIN (0: no grey zone)
    # 1:1 threshold for a replacement enrollment photo; None: the model's (ENROLLMENT_MATCH).
    enrollment_match_threshold: float | None = None
    enrollment: EnrollmentGate = field(default_factory=EnrollmentGate)
    door: DoorGate = field(default_factory=DoorGate)

    @property
    def enrollment_match(self) -> float | None:
        """The score a replacement photo must reach against the member's own templates; None:
        no measured threshold, so every replacement photo is reviewed by staff."""
        if self.enrollment_match_threshold is not None:
            return self.enrollment_match_threshold
        return ENROLLMENT_MATCH.get(self.model)

    @property
    def policy(self) -> MatchPolicy:
        overrides = {
            "threshold": self.match_threshold,
            "margin": self.match_margin,
            "stranger_rate": self.stranger_rate,
            "confirm_rate": self.confirm_rate,
        }
        return replace(MODEL_POLICIES[self.model], **{k: v for k, v in overrides.items() if v is not None})

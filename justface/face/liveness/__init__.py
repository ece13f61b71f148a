"""Liveness: is the face in front of the camera a live person, not a print or a screen?

Two layers, both plain library code (no Django):

* **Passive** (``PassiveLiveness``): MiniFASNetV2 by Minivision (Silent-Face-Anti-Spoofing,
  Apache-2.0; the ONNX file ships in ``weights/minifasnet`` with its licence and is checked
  against the pinned sha256 when it loads) sees a crop 2.7 times the *detected* face box
  (shifted back inside the image, never clipped), resized to 80x80, BGR, 0-255, CHW; its
  softmax[1] (class 1 = real face) is the passive score. Beside it a frequency cue
  (``fft_ratio``): a re-captured face loses or aliases its fine detail. The net has no notion
  of "no face" (random noise scores ~0.99): only ever give it a face the detector found.
  (The second net of the pair, MiniFASNetV1SE, still ships but is not run: on pad/dev + dev2
  it made prints and replays score higher, not lower: docs/face-engine.md, *Liveness*.)
* **Clearly live, per camera** (``LiveReference``): the passive score refuses only what is
  clearly an attack (below ``THRESHOLD``); a frame walks in with no challenge only when both
  cues are above the cuts of the door's *own* live reference (its ``LIVE_QUANTILE`` of live
  frames at that camera). The default reference, before a door has learned its camera, lets
  no development attack in unchallenged (most members are challenged at first).
* **Active challenge** (``check_burst``): a short burst of frames taken while the member turns
  their head a little to the side they were asked. From MTCNN's five landmarks per frame:
  the head turned the asked way (yaw: the nose tip's offset from the eyes' midpoint along the
  eye line, over the inter-ocular distance; unchanged by any in-plane shift, rotation or scale),
  the nose moved against the plane of the eyes and mouth corners (parallax: a printed or
  displayed face is flat, so its nose follows the affine motion of the other four points,
  however the print is shifted, turned or tilted), and every frame shows the same face.

Sign convention: frames as the camera delivers them (not mirrored). A person who turns their
head to *their own* left moves the nose towards the image's right: yaw grows.
"""

from .challenge import INSTRUCTIONS, LEFT, RIGHT, BurstResult, ChallengeRules, check_burst, turn_profile
from .passive import (
    _HIGH_RING,
    _LOW_RING,
    DOUBT_BELOW,
    FFT_HIGH,
    FFT_LOW,
    FFT_SIZE,
    NETS,
    SHIPPED,
    SIZE,
    THRESHOLD,
    V1SE,
    V2,
    WEIGHTS_DIR,
    PassiveLiveness,
    PassiveNet,
    crop_box,
    fft_ratio,
    net_input,
    sha256_of,
)
from .pose import nose_parallax, similarity_change, yaw
from .reference import (
    DEFAULT_REFERENCE,
    FLOOR_REFERENCE,
    LIVE_QUANTILE,
    CalibrationRules,
    Cues,
    LiveReference,
    calibrate,
    logit,
    reference_from_live,
    reference_quantile,
)
from .scene import SCENE_FACE_MARGIN, SCENE_MIN_SHARE, SCENE_SIDE, frame_difference, scene_similarity
from .synthetic import photo_burst, still_burst

__all__ = [
    "DEFAULT_REFERENCE",
    "DOUBT_BELOW",
    "FFT_HIGH",
    "FFT_LOW",
    "FFT_SIZE",
    "FLOOR_REFERENCE",
    "INSTRUCTIONS",
    "LEFT",
    "LIVE_QUANTILE",
    "NETS",
    "RIGHT",
    "SCENE_FACE_MARGIN",
    "SCENE_MIN_SHARE",
    "SCENE_SIDE",
    "SHIPPED",
    "SIZE",
    "THRESHOLD",
    "V1SE",
    "V2",
    "WEIGHTS_DIR",
    "_HIGH_RING",
    "_LOW_RING",
    "BurstResult",
    "CalibrationRules",
    "ChallengeRules",
    "Cues",
    "LiveReference",
    "PassiveLiveness",
    "PassiveNet",
    "calibrate",
    "check_burst",
    "crop_box",
    "fft_ratio",
    "frame_difference",
    "logit",
    "net_input",
    "nose_parallax",
    "photo_burst",
    "reference_from_live",
    "reference_quantile",
    "scene_similarity",
    "sha256_of",
    "similarity_change",
    "still_burst",
    "turn_profile",
    "yaw",
]

"""Evaluating liveness on a folder of presentation-attack images (plain library, no Django):
``{bona_fide,print,replay}/<subject>/*.jpg``.

At the door's detection settings each image's dominant face gets the passive score; rates are
fractions of the images with a face (``no_face`` counts the others): BPCER (bona fide refused)
and APCER (attacks accepted) at the threshold, overall and per subject (for replays: per video,
as the subjects of pad/dev are one video each). ``still_bursts`` runs the challenge check
(geometry and same face, without the passive layer, which would refuse most of them by itself)
on a burst made from each attack image (liveness.still_burst: shifts, rotation, scale, tilt and
brightness, as a hand-held print or phone moves) and counts how many pass; its ``kinds`` does
the same on bursts cut from several photos of one person (two photos [P, P, T, T] and
slideshows, mirrored to turn the asked way, ordered by yaw or not, held by hand or not), per
source folder and kind: the pad folder's bona fide people and any ``photos`` folders.

By topic: ``pad`` (the attack folder, still and photo bursts, the report) and ``policy``
(the door policy per camera).
"""

from .pad import (
    ATTACKS,
    BURST_FRAMES,
    CLASSES,
    PHOTO_BURST_KINDS,
    SUFFIXES,
    TWO_PHOTO_PATTERNS,
    evaluate_pad,
    evaluate_photo_bursts,
    format_report,
    load,
    pad_files,
    photo_attacks,
    photo_people,
    wilson_upper,
)
from .policy import (
    DECISIONS,
    burst_gain,
    decide,
    evaluate_policy,
    format_bursts,
    format_policy,
    manifest,
    measure_frames,
    references_by_source,
)

__all__ = [
    "ATTACKS",
    "BURST_FRAMES",
    "CLASSES",
    "DECISIONS",
    "PHOTO_BURST_KINDS",
    "SUFFIXES",
    "TWO_PHOTO_PATTERNS",
    "burst_gain",
    "decide",
    "evaluate_pad",
    "evaluate_photo_bursts",
    "evaluate_policy",
    "format_bursts",
    "format_policy",
    "format_report",
    "load",
    "manifest",
    "measure_frames",
    "pad_files",
    "photo_attacks",
    "photo_people",
    "references_by_source",
    "wilson_upper",
]

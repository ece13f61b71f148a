"""Camera frames from the door tablet: untrusted bytes checked before any pixel is decoded.

The checks and the decoding are the face library's image intake (justface/face/image.py: JPEG,
PNG or WebP only, pixels from the header, decoded once and small); this module adds what is the
door's: the byte limit, the declared content type, the HTTP status of each refusal, and one pixel
budget for all the frames of a request (a burst). Every frame of a request is checked before the
first is decoded, and the decoding takes the engine's slot (one at a time per process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from justface.face import image as intake
from justface.face_runtime import engine_turn, image_limits

MAX_BYTES = 5 * 1024 * 1024
CONTENT_TYPES = {mime: fmt for fmt, mime in intake.FORMATS.items()}
_STATUS = {"image_too_large": 413, "too_many_pixels": 413, "unsupported_format": 415}


class FrameRejected(ValueError):
    """Why an upload is not a usable frame, with the HTTP status that says so (400/413/415/503)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Frame:
    data: bytes  # as sent: what is kept (encrypted) as the door photo
    image: Image.Image  # decoded, upright RGB, at most ImageLimits.work_side a side: what the engine reads


def _checked(data: bytes, content_type: str, limits: intake.ImageLimits) -> intake.ImageInfo:
    if len(data) > MAX_BYTES:
        raise FrameRejected(413, f"The image is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise FrameRejected(400, "The image is empty.")
    if content_type not in CONTENT_TYPES:
        raise FrameRejected(415, f"Send a {intake.ACCEPTED} image, not {content_type or 'an untyped file'}.")
    return intake.inspect(data, limits)


def read_frames(uploads: Sequence[tuple[bytes, str]]) -> list[Frame]:
    """Frames from (bytes, declared content type) pairs: every one checked from its header and
    the request's pixel budget spent, then all decoded, one at a time. Raises FrameRejected."""
    limits = image_limits()
    budget = intake.PixelBudget(limits)
    try:
        infos = [_checked(data, content_type, limits) for data, content_type in uploads]
        for info in infos:
            budget.spend(info)
        with engine_turn() as held:
            if not held:
                raise FrameRejected(503, "The face engine is busy; send the frame again in a moment.")
            return [Frame(data, intake.decode(data, limits, info)) for (data, _), info in zip(uploads, infos)]
    except intake.ImageError as exc:
        raise FrameRejected(_STATUS.get(exc.reason, 400), exc.detail) from None


def read_frame(data: bytes, content_type: str) -> Frame:
    """One frame (``read_frames`` of one)."""
    return read_frames([(data, content_type)])[0]

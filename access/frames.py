"""Camera frames from the door tablet: untrusted bytes checked before any pixel is decoded."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
CONTENT_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class FrameRejected(ValueError):
    """Why an upload is not a usable frame, with the HTTP status that says so (400/413/415)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Frame:
    data: bytes  # as sent: what is kept (encrypted) as the door photo
    image: Image.Image  # decoded, upright RGB: what the face engine reads


def read_frame(data: bytes, content_type: str) -> Frame:
    """Check size, declared and real type, and pixel dimensions from the header, then decode."""
    if len(data) > MAX_BYTES:
        raise FrameRejected(413, f"The image is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise FrameRejected(400, "The image is empty.")
    if content_type not in CONTENT_TYPES:
        raise FrameRejected(415, f"Send a JPEG, PNG or WebP image, not {content_type or 'an untyped file'}.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two bomb limits: make every bomb an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in CONTENT_TYPES.values():
                raise FrameRejected(415, f"The file is {image.format}; send a JPEG, PNG or WebP image.")
            if max(image.size) > MAX_SIDE:
                raise FrameRejected(
                    413, f"The image is {image.width}×{image.height} pixels; at most {MAX_SIDE} a side."
                )
            image.load()
    except FrameRejected:
        raise
    except UnidentifiedImageError:
        raise FrameRejected(400, "The file is not an image.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FrameRejected(413, "The image unpacks to too many pixels (a decompression bomb).") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Truncated or corrupt data surfaces as any of these, depending on the codec.
        raise FrameRejected(400, "The image is truncated or corrupt.") from None
    return Frame(data, ImageOps.exif_transpose(image).convert("RGB"))

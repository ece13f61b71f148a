"""Decoding untrusted image bytes and measuring the quality of a face crop."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageError(ValueError):
    """The bytes are not a usable image; ``reason`` is a stable code (see engine.Reason)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode bytes into an upright RGB image, or raise ImageError.

    The pixel count is checked from the header before any pixel is decoded, so a
    decompression bomb costs nothing. EXIF orientation is applied (phones store portrait
    photos sideways with a rotation tag).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                raise ImageError("image_too_large", f"{image.width}x{image.height} pixels")
            image.load()
            image = ImageOps.exif_transpose(image)
            return image.convert("RGB")
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("not_an_image", str(exc)) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("image_too_large", str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Truncated or corrupt data surfaces as any of these, depending on the codec.
        raise ImageError("corrupt_image", str(exc)) from exc


def sharpness(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: low for blurred or upscaled faces."""
    g = gray.astype(np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def brightness(gray: np.ndarray) -> float:
    """Mean grey level, 0-255."""
    return float(gray.mean())

"""Image intake: untrusted bytes in, one small upright RGB image out, or a reason (ImageError).

Every image the product accepts (door frames, challenge bursts, enrollment photos) comes through
here, under one allow-list and one set of limits (``ImageLimits``):

1. The format is read from the first bytes: JPEG, PNG or WebP, nothing else (``FORMATS``).
2. Width and height come from the header, before any pixel is decoded; an image over
   ``max_pixels`` (WebP: a quarter of it, its decoder needs four times the memory) or
   ``max_side`` is refused, and a request's images together may not exceed ``max_request_pixels``
   (``PixelBudget``).
3. The pixels are decoded once, already small: a JPEG at the smallest DCT scale (1/2, 1/4, 1/8)
   that still covers ``work_side`` (Pillow's draft), any other format reduced straight after
   decoding, before the EXIF rotation and the conversion to RGB (which then copy a small image).

Measured (bench/image_bombs.py, README "Hardening"): the decoding of a 4096x4096 PNG peaks at
about 4 bytes a pixel (67 MB), a 4096x4096 JPEG at 36 MB, a 2048x2048 WebP at 67 MB.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The only formats accepted anywhere, with their MIME types: Pillow reads many more (TIFF, BMP,
# GIF, PPM, TGA, ...), each a parser more to trust; none of them comes from a camera.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPTED = "JPEG, PNG or WebP"
# Libwebp's decoder (through Pillow) holds about 16 bytes a pixel, PNG and JPEG about 4.
WEBP_COST = 4

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
# What a bomb in a refused format is called (Pillow names the others).
_OTHER_MAGIC = (
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
)


class ImageError(ValueError):
    """The bytes are not a usable image. ``reason`` is a stable code (engine.Reason): not_an_image,
    unsupported_format, image_too_large, too_many_pixels, corrupt_image; ``detail`` says it in
    English for an API client, with the limit that applies."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int = 4096 * 4096  # one image, counted from its header (WebP: a quarter of this)
    max_side: int = 8192  # one image, either side
    max_request_pixels: int = 4096 * 4096  # all images of one request together (a burst)
    work_side: int = 1920  # decoded images are at most this a side (the engine needs far less)

    def pixel_limit(self, fmt: str) -> int:
        return self.max_pixels // WEBP_COST if fmt == "WEBP" else self.max_pixels


@dataclass(frozen=True)
class ImageInfo:
    """What the header says: format, width and height; nothing decoded."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"


def _square(pixels: int) -> str:
    side = int(pixels**0.5)
    return f"{side}×{side}"


def _sniff(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _foreign_format(data: bytes) -> str | None:
    """The name of a format that is not accepted, to say so; None when it is not an image at all."""
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIC/AVIF"  # a phone's own format, which Pillow does not read
    try:
        # Only to name it: Pillow's plugins parse headers on open, none decodes a pixel.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                return image.format
    except Image.DecompressionBombError:  # an image of a refused format, and a bomb too
        return next((name for magic, name in _OTHER_MAGIC if data.startswith(magic)), "unknown")
    except Exception:  # anything a parser of a refused format raises: not an image it can read
        return None


def inspect(data: bytes, limits: ImageLimits) -> ImageInfo:
    """Format and dimensions from the header, checked against the allow-list and the limits;
    nothing is decoded. Raises ImageError."""
    if not data:
        raise ImageError("not_an_image", "The image is empty.")
    fmt = _sniff(data)
    if fmt is None:
        foreign = _foreign_format(data)
        if foreign is None:
            raise ImageError("not_an_image", f"The file is not an image; send a {ACCEPTED} image.")
        raise ImageError("unsupported_format", f"The file is in {foreign} format; send a {ACCEPTED} image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (far above ours) caught it first.
        limit = limits.pixel_limit(fmt)
        raise ImageError(
            "image_too_large",
            f"The image has far more than {megapixels(limit)} megapixels ({_square(limit)}), the most accepted.",
        ) from None
    except UnidentifiedImageError:
        raise ImageError("corrupt_image", "The image is truncated or corrupt.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageError("corrupt_image", "The image is truncated or corrupt.") from None
    with image:
        info = ImageInfo(fmt, image.width, image.height)
    return _refuse_size((info.width, info.height), fmt, limits) or info


def _refuse_size(size: tuple[int, int], fmt: str, limits: ImageLimits) -> None:
    width, height = size
    limit = limits.pixel_limit(fmt)
    if width * height > limit or not (width and height):
        kind = "a WebP image" if fmt == "WEBP" else "an image"
        raise ImageError(
            "image_too_large",
            f"The image is {width}×{height} pixels ({megapixels(width * height)} megapixels); {kind} may have "
            f"at most {megapixels(limit)} megapixels ({_square(limit)}).",
        )
    if max(width, height) > limits.max_side:
        raise ImageError(
            "image_too_large",
            f"The image is {width}×{height} pixels; at most {limits.max_side} pixels a side.",
        )
    return None


class PixelBudget:
    """The pixels one request may bring, all its images together (a burst of frames)."""

    def __init__(self, limits: ImageLimits):
        self.limits = limits
        self.spent = 0

    def spend(self, info: ImageInfo) -> None:
        self.spent += info.pixels
        if self.spent > self.limits.max_request_pixels:
            raise ImageError(
                "too_many_pixels",
                f"The images of this request hold more than {megapixels(self.limits.max_request_pixels)} megapixels "
                f"together ({megapixels(self.spent)} so far); send fewer or smaller frames.",
            )


def decode(data: bytes, limits: ImageLimits, info: ImageInfo | None = None) -> Image.Image:
    """Decode checked bytes (``inspect``) into an upright RGB image at most ``work_side`` a side,
    or raise ImageError. The full-size pixels exist at most once, and only for PNG and WebP."""
    info = info or inspect(data, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[info.format])
            target = _fit(image.size, limits.work_side)
            if info.format == "JPEG" and target != image.size:
                image.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale, never below target
            image.load()
            image = _shrink(image, target)
            upright = ImageOps.exif_transpose(image)
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
            if rgb is not image:
                image.close()
            return rgb
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("image_too_large", "The image unpacks to too many pixels (a decompression bomb).") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Truncated or corrupt data surfaces as any of these, depending on the codec.
        raise ImageError("corrupt_image", "The image is truncated or corrupt.") from None


def decode_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """``inspect`` then ``decode``: the engine's way in for bytes."""
    return decode(data, limits, inspect(data, limits))


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= side:
        return size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """``image`` at ``target`` size, freeing the decoded original as soon as it is not needed. A
    box reduction by a whole factor first (cheap, no full-size copy), then a bilinear resize of
    the small image. Alpha is dropped band by band (a full-size RGB copy of an RGBA image would
    cost 4 bytes a pixel more)."""
    if image.size == target:
        return image
    factor = min(image.width // target[0], image.height // target[1])
    if image.mode in ("RGBA", "LA"):
        bands = image.getbands()[:-1]
        small = Image.merge(
            "RGB" if len(bands) == 3 else "L",
            [_reduce_band(image, band, factor) for band in bands],
        )
    elif image.mode in ("RGB", "L"):
        small = image.reduce(factor) if factor > 1 else image
    elif image.mode in ("P", "1"):  # no camera writes these: nearest-neighbour is good enough
        small = image.resize(target, Image.Resampling.NEAREST)
    else:  # 16-bit grey, CMYK, palette with alpha: one conversion, then the same way
        small = image.convert("RGB")
        image.close()
        small = _shrink(small, target)
        return small
    if small is not image:
        image.close()
    resized = small.resize(target, Image.Resampling.BILINEAR) if small.size != target else small
    if resized is not small:
        small.close()
    return resized


def _reduce_band(image: Image.Image, band: str, factor: int) -> Image.Image:
    channel = image.getchannel(band)
    if factor <= 1:
        return channel
    reduced = channel.reduce(factor)
    channel.close()
    return reduced


def sharpness(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: low for blurred or upscaled faces."""
    g = gray.astype(np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def brightness(gray: np.ndarray) -> float:
    """Mean grey level, 0-255."""
    return float(gray.mean())

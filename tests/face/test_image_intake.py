"""The image intake (justface/face/image.py): one allow-list, limits read from the header, and
a decoding that is small from the start yet leaves ordinary door frames exactly as they were."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from justface.face import image as intake

LIMITS = intake.ImageLimits()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (1920, 1080)])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_ordinary_frames_decode_exactly_as_before(size, fmt):
    data = encoded(noise(size), fmt)
    if fmt == "WEBP" and size[0] * size[1] > LIMITS.pixel_limit("WEBP"):
        pytest.skip("over WebP's limit")
    plain = Image.open(io.BytesIO(data)).convert("RGB")
    decoded = intake.decode_image(data, LIMITS)
    assert decoded.mode == "RGB" and decoded.size == size
    assert np.array_equal(np.asarray(decoded), np.asarray(plain))


@pytest.mark.parametrize(
    "size, mode, fmt",
    [
        ((4032, 3024), "RGB", "JPEG"),  # a 12 Mpx phone photo: read at half scale
        ((4096, 4096), "RGB", "PNG"),
        ((4096, 4096), "RGBA", "PNG"),
        ((3000, 2000), "P", "PNG"),
        ((2000, 2000), "RGBA", "WEBP"),
        ((3000, 2000), "L", "JPEG"),
    ],
)
def test_large_images_come_out_small_and_rgb(size, mode, fmt):
    image = Image.new(mode, size, 100 if mode in ("L", "P") else (100,) * len(mode))
    decoded = intake.decode_image(encoded(image, fmt), LIMITS)
    assert decoded.mode == "RGB" and max(decoded.size) == LIMITS.work_side
    assert abs(decoded.width / decoded.height - size[0] / size[1]) < 0.01


def test_jpeg_is_decoded_at_a_reduced_scale():
    data = encoded(noise((4032, 3024)), "JPEG")
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (1920, 1440))
    assert image.size == (2016, 1512)  # what the draft makes of it: half the pixels each way


def test_exif_rotation_is_applied_after_the_reduction():
    image = noise((4000, 3000))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encoded(image, "JPEG", exif=exif.tobytes())
    decoded = intake.decode_image(data, LIMITS)
    assert decoded.size == (1440, 1920)
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB").resize((1440, 1920))
    assert np.abs(np.asarray(decoded, np.int16) - np.asarray(reference, np.int16)).mean() < 40


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "PPM", "TGA", "GIF", "ICO", "PCX", "SGI"])
def test_other_formats_are_refused_by_name(fmt):
    with pytest.raises(intake.ImageError) as refused:
        intake.inspect(encoded(noise((64, 64)).convert("RGB"), fmt), LIMITS)
    assert refused.value.reason == "unsupported_format"
    assert "JPEG, PNG or WebP" in refused.value.detail


def test_limits_are_read_from_the_header():
    limits = intake.ImageLimits(max_pixels=1000 * 1000, max_side=1500, max_request_pixels=2_000_000)
    with pytest.raises(intake.ImageError, match="1.0 megapixels") as refused:
        intake.inspect(encoded(Image.new("L", (1100, 1000)), "PNG"), limits)
    assert refused.value.reason == "image_too_large"
    with pytest.raises(intake.ImageError, match="1500 pixels a side"):
        intake.inspect(encoded(Image.new("L", (1600, 10)), "PNG"), limits)
    with pytest.raises(intake.ImageError, match="0.2 megapixels"):  # WebP: a quarter
        intake.inspect(encoded(Image.new("RGB", (600, 600)), "WEBP"), limits)
    budget = intake.PixelBudget(limits)
    frame = intake.inspect(encoded(Image.new("L", (1000, 900)), "PNG"), limits)
    budget.spend(frame)
    budget.spend(frame)
    with pytest.raises(intake.ImageError, match="2.0 megapixels together") as refused:
        budget.spend(frame)
    assert refused.value.reason == "too_many_pixels"

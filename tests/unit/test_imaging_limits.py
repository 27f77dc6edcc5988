"""Decoding limits, bad and truncated input, and real files from ../shared."""

from __future__ import annotations

import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from redactor.containers import ImageFormat
from redactor.errors import ConfigError, CorruptImage, ImageTooLarge, UnsupportedImage
from redactor.imaging import (
    decode,
    detection_views,
)
from redactor.options import Limits
from tests.support import shared_image
from tests.unit import imaging_cases as cases

# --- Limits and bad input ---------------------------------------------------------------------


@pytest.fixture
def no_pixel_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any decoder is asked for pixels (the limit must come from headers)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pixels were decoded before the size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(cv2, "imdecode", refuse)
    monkeypatch.setattr(cv2, "imdecodemulti", refuse)


@pytest.mark.usefixtures("no_pixel_decoding")
def test_given_decompression_bomb_png_then_image_too_large_before_any_pixel() -> None:
    bomb = cases.bilevel_bomb_png()
    assert len(bomb) < 200_000
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="image is larger than the decoder's safety limit"):
        decode(bomb, Limits(max_pixels=10**9, max_total_pixels=10**9))
    assert time.perf_counter() - started < 1


@pytest.mark.usefixtures("no_pixel_decoding")
def test_given_pillows_bomb_limit_switched_off_then_our_limit_still_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageTooLarge, match=r"PNG frame 0 is 20000x20000 \(400000000 pixels\)"):
        decode(cases.bilevel_bomb_png(), cases.LIMITS)


@pytest.mark.usefixtures("no_pixel_decoding")
@pytest.mark.parametrize(
    ("data", "limits"),
    [
        (cases.png_header_only(4_000, 3_000, b""), Limits(max_pixels=10_000_000)),
        (
            cases.png_header_only(2_000, 2_000, b"", bit_depth=16, colour=6),
            Limits(max_pixels=1_000_000),
        ),
        (cases.encoded(cases.gradient(64, 96), "JPEG"), Limits(max_pixels=5_000)),
        (cases.encoded(cases.gradient(64, 96), "WEBP"), Limits(max_pixels=5_000)),
        (cases.encoded(cases.gradient(64, 96), "TIFF"), Limits(max_pixels=5_000)),
        (cases.encoded(cases.gradient(64, 96), "HEIF", quality=50), Limits(max_pixels=5_000)),
    ],
    ids=["png", "png-16bit", "jpeg", "webp", "tiff", "heif"],
)
def test_given_frame_over_max_pixels_then_too_large_from_the_header(
    data: bytes, limits: Limits
) -> None:
    with pytest.raises(ImageTooLarge, match="pixels per frame"):
        decode(data, limits)


@pytest.mark.usefixtures("no_pixel_decoding")
def test_given_huge_declared_dimensions_with_tiny_body_then_too_large() -> None:
    data = cases.png_header_only(100_000, 100_000, zlib.compress(b"\x00" * 64))
    assert len(data) < 100
    with pytest.raises(ImageTooLarge):
        decode(data, cases.LIMITS)


def test_given_file_over_max_bytes_then_too_large_before_sniffing() -> None:
    with pytest.raises(ImageTooLarge, match="the file is 2000 bytes, above the limit of 1000"):
        decode(b"\x00" * 2000, Limits(max_file_bytes=1000))


def test_given_more_frames_than_allowed_then_too_large() -> None:
    data = cases.animation(cases.distinct_frames(5), "GIF", duration=40)
    with pytest.raises(ImageTooLarge, match="GIF has 5 frames, above the limit of 3"):
        decode(data, Limits(max_frames=3))


def test_given_frames_adding_up_over_the_total_then_too_large() -> None:
    data = cases.animation(cases.distinct_frames(5), "WEBP", duration=40, lossless=True)
    with pytest.raises(ImageTooLarge, match="frames add up to more than the limit of 1500 pixels"):
        decode(data, Limits(max_total_pixels=1500))


def _truncations(data: bytes) -> list[bytes]:
    return [data[: int(len(data) * share)] for share in (0.2, 0.5, 0.8, 0.95)] + [data[:-20]]


@pytest.mark.parametrize(
    "data",
    [
        *_truncations(cases.encoded(cases.noise(64, 64), "JPEG", quality=90)),
        *_truncations(cases.encoded(cases.noise(64, 64), "JPEG", progressive=True)),
        *_truncations(cases.encoded(cases.noise(64, 64), "PNG")),
        *_truncations(cv2.imencode(".png", cases.noise(64, 64, dtype=np.uint16))[1].tobytes()),
        *_truncations(cases.encoded(cases.noise(64, 64), "GIF")),
        *_truncations(cases.encoded(cases.noise(64, 64), "WEBP")),
        *_truncations(cases.encoded(cases.noise(64, 64), "TIFF")),
        *_truncations(cv2.imencode(".tiff", cases.noise(64, 64, dtype=np.uint16))[1].tobytes()),
        *_truncations(cases.encoded(cases.noise(64, 64), "BMP")),
        *_truncations(cases.encoded(cases.noise(64, 64), "HEIF")),
    ],
)
def test_given_truncated_file_then_corrupt_image_never_a_partial_image(data: bytes) -> None:
    with pytest.raises(CorruptImage, match=r"truncated or corrupt|cannot be parsed") as caught:
        decode(data, cases.LIMITS)
    message = str(caught.value)
    assert "\\x" not in message and "b'" not in message and "BytesIO" not in message


def test_given_load_truncated_images_switched_on_then_decode_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ConfigError, match="LOAD_TRUNCATED_IMAGES"):
        decode(cases.encoded(cases.gradient(), "PNG"), cases.LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        cases.encoded(cases.gradient(), "TIFF", tiffinfo={50706: b"\x01\x04\x00\x00"}),
        cases.encoded(cases.gradient(), "TIFF", tiffinfo={330: 8}),
    ],
    ids=["dng", "sub-ifds"],
)
def test_given_tiff_based_camera_raw_then_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedImage, match="camera RAW"):
        decode(data, cases.LIMITS)


def test_given_32bit_float_tiff_then_unsupported() -> None:
    data = cases.encoded(Image.fromarray(np.zeros((4, 4), np.float32), "F"), "TIFF")
    with pytest.raises(UnsupportedImage, match="F pixels are not supported"):
        decode(data, cases.LIMITS)


# --- Real files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "size", "alpha", "depth"),
    [
        ("exif_thumbnail_leak_olympus.jpg", ImageFormat.JPEG, (80, 80), False, 8),
        ("exif_canon_gps_serial_artist.jpg", ImageFormat.JPEG, (1394, 930), False, 8),
        ("exif_png_exif_chunk_gps.png", ImageFormat.PNG, (1, 1), False, 8),
        ("exif_iphone_gps.heic", ImageFormat.HEIF, (4032, 3024), False, 8),
        ("face_two_nikon_exif.jpg", ImageFormat.JPEG, (1200, 799), False, 8),
        ("face_portrait_studio.png", ImageFormat.PNG, (960, 845), False, 8),
        ("screen_web_page.png", ImageFormat.PNG, (5052, 2480), True, 8),
        ("exif_orientation8_portrait.jpg", ImageFormat.JPEG, (1200, 1800), False, 8),
        ("plate_dealer_placeholder.webp", ImageFormat.WEBP, (512, 512), False, 8),
    ],
)
def test_given_real_file_then_decoded_facts(
    name: str, fmt: ImageFormat, size: tuple[int, int], alpha: bool, depth: int
) -> None:
    image = decode(shared_image(name).read_bytes(), cases.LIMITS)
    assert image.format is fmt
    assert (image.width, image.height) == size
    assert (image.has_alpha, image.bit_depth, image.frame_count) == (alpha, depth, 1)


def test_given_screenshot_rgba_png_then_identical_round_trip() -> None:
    source, output, _ = cases.round_trip(shared_image("screen_web_page.png").read_bytes())
    assert np.array_equal(output.frames[0], source.frames[0])


def test_given_partly_transparent_frame_then_detectors_see_colour_and_composite() -> None:
    frame = np.zeros((4, 4, 4), dtype=np.uint8)
    frame[..., 3] = 255
    frame[0, 0, 3] = 0  # one transparent pixel over black colour
    views = detection_views(frame)
    assert len(views) == 2
    assert views[0][0, 0].tolist() == [0, 0, 0]  # colour channels as stored
    assert views[1][0, 0].tolist() == [255, 255, 255]  # as a viewer shows it on white
    assert views[1][1, 1].tolist() == [0, 0, 0]


def test_given_opaque_frame_then_detectors_see_one_view() -> None:
    frame = np.full((4, 4, 4), 65535, dtype=np.uint16)
    assert len(detection_views(frame)) == 1
    assert len(detection_views(np.zeros((4, 4, 3), np.uint8))) == 1

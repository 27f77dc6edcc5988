"""Animations and multi-frame files round trip; encoding chooses the output format and quality."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from redactor.containers import ImageFormat
from redactor.imaging import (
    decode,
    detection_view,
    encode,
    output_format_for,
)
from tests.support import shared_image
from tests.unit import imaging_cases as cases

# --- Animations -------------------------------------------------------------------------------


def test_given_animated_gif_then_every_frame_duration_and_loop_round_trip() -> None:
    frames = cases.distinct_frames(4)
    data = cases.animation(frames, "GIF", duration=[100, 200, 300, 400], loop=0)

    source, output, _ = cases.round_trip(data)

    assert source.frame_count == 4
    assert source.frame_durations_ms == (100, 200, 300, 400) and source.loop == 0
    assert all(np.array_equal(a, b) for a, b in zip(source.frames, frames, strict=True))
    assert output.frame_durations_ms == (100, 200, 300, 400) and output.loop == 0
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, frames, strict=True))


def test_given_animated_gif_with_transparency_then_frames_round_trip() -> None:
    frames = cases.distinct_frames(3, channels=4)
    palettes = [Image.fromarray(frame).convert("RGBA") for frame in frames]
    buffer = io.BytesIO()
    palettes[0].save(
        buffer, "GIF", save_all=True, append_images=palettes[1:], duration=50, disposal=2
    )

    source, output, _ = cases.round_trip(buffer.getvalue())

    assert source.has_alpha and source.frame_count == 3
    assert source.loop is None  # no NETSCAPE loop block: plays once, and stays so
    assert output.loop is None
    for decoded, expected in zip(output.frames, source.frames, strict=True):
        assert np.array_equal(_visible(decoded), _visible(expected))


def _visible(frame: np.ndarray) -> np.ndarray:
    """RGBA with the colour of fully transparent pixels zeroed (GIF keeps no colour there)."""
    return np.where(frame[..., 3:] == 0, 0, frame)


@pytest.mark.parametrize("channels", [3, 4])
def test_given_gif_frame_with_more_than_256_colours_then_it_is_requantised(channels: int) -> None:
    source = decode(
        cases.animation(cases.distinct_frames(2, channels), "GIF", duration=40), cases.LIMITS
    )
    rich = [
        cases.gradient(20, 24, channels) + cases.noise(20, 24, channels, seed=s) % 9 for s in (1, 2)
    ]
    if channels == 4:
        for frame in rich:
            frame[:, :5, 3] = 0
            frame[:, 5:, 3] = 255

    output = decode(encode(rich, source, icc="keep", jpeg_quality=92).data, cases.LIMITS)

    assert output.frame_count == 2
    for decoded, expected in zip(output.frames, rich, strict=True):
        visible = _visible if channels == 4 else np.asarray
        assert cases.psnr(visible(decoded), visible(expected)) > 25
        if channels == 4:
            assert np.array_equal(decoded[..., 3], expected[..., 3])


@pytest.mark.parametrize("lossless", [True, False])
def test_given_animated_webp_then_frames_durations_and_loop_round_trip(lossless: bool) -> None:
    frames = cases.distinct_frames(3, channels=4)
    data = cases.animation(
        frames, "WEBP", duration=[70, 80, 90], loop=3, lossless=lossless, exact=True
    )

    source, output, _ = cases.round_trip(data)

    assert source.lossless is lossless and output.lossless is lossless
    assert source.frame_count == 3 and output.frame_count == 3
    assert source.frame_durations_ms == (70, 80, 90) and source.loop == 3
    assert output.frame_durations_ms == (70, 80, 90) and output.loop == 3
    for decoded, expected in zip(output.frames, source.frames, strict=True):
        if lossless:
            assert np.array_equal(decoded, expected)
        else:
            assert cases.psnr(decoded, expected) > 35


def test_given_apng_then_every_frame_round_trips() -> None:
    frames = cases.distinct_frames(3, channels=4)
    data = cases.animation(frames, "PNG", duration=[30, 60, 90], loop=2)
    source, output, _ = cases.round_trip(data)
    assert source.frame_count == 3 and source.frame_durations_ms == (30, 60, 90)
    assert output.frame_durations_ms == (30, 60, 90) and output.loop == 2
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, frames, strict=True))


# --- Encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (ImageFormat.HEIF, ImageFormat.JPEG),
        (ImageFormat.BMP, ImageFormat.PNG),
        *[(fmt, fmt) for fmt in (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)],
        *[(fmt, fmt) for fmt in (ImageFormat.TIFF, ImageFormat.GIF)],
    ],
)
def test_output_format_for(given: ImageFormat, expected: ImageFormat) -> None:
    assert output_format_for(given) is expected


def test_given_jpeg_then_re_encoded_at_high_quality_444() -> None:
    source = decode(shared_image("face_portrait_closeup.jpg").read_bytes(), cases.LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    again = decode(output.data, cases.LIMITS)
    assert (output.format, output.width, output.height) == (ImageFormat.JPEG, 1424, 1494)
    assert cases.psnr(again.frames[0], source.frames[0]) > 40
    with Image.open(io.BytesIO(output.data)) as written:
        assert written.layer == [(1, 1, 1, 0), (2, 1, 1, 1), (3, 1, 1, 1)]  # 4:4:4


def test_given_heic_with_alpha_then_jpeg_output_is_composited_on_white() -> None:
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 24:, 3] = 255  # left half fully transparent, right half opaque red
    heic = cases.encoded(rgba, "HEIF", quality=-1)
    source = decode(heic, cases.LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=95)
    pixels = decode(output.data, cases.LIMITS).frames[0].astype(int)
    assert source.has_alpha and output.format is ImageFormat.JPEG
    assert np.abs(pixels[16, 4] - (255, 255, 255)).max() <= 6
    assert pixels[16, 40, 0] > 150 and pixels[16, 40, 1] < 60


def test_given_real_heic_then_jpeg_output_has_its_size_and_pixels() -> None:
    source = decode(shared_image("exif_iphone_gps.heic").read_bytes(), cases.LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    assert (output.format, output.width, output.height) == (ImageFormat.JPEG, 4032, 3024)
    assert cases.psnr(decode(output.data, cases.LIMITS).frames[0], source.frames[0]) > 40


def test_given_lossy_webp_then_lossy_webp_output_close_to_input() -> None:
    source, output, data = cases.round_trip(
        cases.encoded(cases.gradient(64, 96), "WEBP", quality=95)
    )
    assert source.lossless is False
    assert b"VP8 " in data and b"VP8L" not in data
    assert cases.psnr(output.frames[0], source.frames[0]) > 35


def test_given_lossless_webp_then_lossless_identical_output() -> None:
    rgba = cases.noise(20, 30, channels=4)
    rgba[0, :, 3] = 0
    source, output, data = cases.round_trip(cases.encoded(rgba, "WEBP", lossless=True, exact=True))
    assert source.lossless is True and b"VP8L" in data
    assert np.array_equal(output.frames[0], rgba)


def test_given_wrong_frame_count_then_encode_refuses() -> None:
    source = decode(cases.encoded(cases.gradient(), "PNG"), cases.LIMITS)
    with pytest.raises(ValueError, match="got 2 frames for an image of 1"):
        encode([source.frames[0]] * 2, source, icc="keep", jpeg_quality=92)


def test_given_float_frame_then_encode_refuses() -> None:
    source = decode(cases.encoded(cases.gradient(), "PNG"), cases.LIMITS)
    with pytest.raises(ValueError, match="uint8/uint16"):
        encode([source.frames[0].astype(np.float32)], source, icc="keep", jpeg_quality=92)


def test_detection_view_drops_alpha_and_scales_16_bits_to_8() -> None:
    frame = np.zeros((2, 3, 4), np.uint16)
    frame[0, 0] = (65535, 257 * 128, 0, 0)
    frame[1, 2] = (256, 383, 128, 65535)
    view = detection_view(frame)
    assert view.dtype == np.uint8 and view.shape == (2, 3, 3)
    assert view[0, 0].tolist() == [255, 128, 0]
    assert view[1, 2].tolist() == [1, 1, 0]
    assert view.flags.writeable and view.flags.c_contiguous


def test_detection_view_of_an_8bit_frame_is_a_writable_copy() -> None:
    frame = decode(cases.encoded(cases.gradient(), "PNG"), cases.LIMITS).frames[0]
    view = detection_view(frame)
    view[0, 0] = (1, 2, 3)
    assert view.flags.writeable and not np.shares_memory(view, frame)
    assert np.array_equal(view[1:], frame[1:])

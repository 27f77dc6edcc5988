"""Sniffing, decoding (orientation, modes, frames, limits, bad input) and encoding round trips."""

from __future__ import annotations

import io
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from redactor.containers import ImageFormat, assert_metadata_free, metadata_in, sniff_format
from redactor.containers.icc import COLOUR_TAGS, read_profile
from redactor.errors import ConfigError, CorruptImage, ImageTooLarge, UnsupportedImage
from redactor.imaging import (
    DecodedImage,
    decode,
    detection_view,
    detection_views,
    encode,
    output_format_for,
)
from redactor.options import Limits
from tests.support import shared_image
from tests.unit import imaging_cases as cases

LIMITS = Limits()


def _round_trip(data: bytes) -> tuple[DecodedImage, DecodedImage, bytes]:
    """Decode, encode the frames unchanged, decode the output: (input, output, output bytes)."""
    source = decode(data, LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    return source, decode(output.data, LIMITS), output.data


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


# --- sniff_format ---------------------------------------------------------------------------

_HEIC_HEAD = b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ImageFormat.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", ImageFormat.PNG),
        (b"GIF87a\x01\x00", ImageFormat.GIF),
        (b"GIF89a\x01\x00", ImageFormat.GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", ImageFormat.WEBP),
        (b"II*\x00\x08\x00\x00\x00", ImageFormat.TIFF),
        (b"MM\x00*\x00\x00\x00\x08", ImageFormat.TIFF),
        (b"BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", ImageFormat.BMP),
        (_HEIC_HEAD, ImageFormat.HEIF),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", ImageFormat.HEIF),
    ],
)
def test_given_image_magic_then_sniff_names_the_format(data: bytes, expected: ImageFormat) -> None:
    assert sniff_format(data) is expected


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG/XML"),
        (b'\xef\xbb\xbf  <svg width="10" height="10"></svg>', "SVG/XML"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ZIP"),
        (b"PK\x05\x06" + b"\x00" * 18, "ZIP"),
        (b"Dear customer,\nyour order has shipped.\n", "plain text"),
        (b"BMW is a car, not a bitmap", "plain text"),
        ("Grüße aus Köln".encode(), "plain text"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
        (b"\n  <html lang='en'><head>", "HTML"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "camera RAW (CR2)"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "camera RAW (CR3)"),
        (b"FUJIFILMCCD-RAW 0201", "camera RAW (RAF)"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41", "MP4/QuickTime video"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (bytes(range(256)) * 4, "unknown format"),
    ],
)
def test_given_non_image_then_sniff_says_what_it_looks_like(data: bytes, looks_like: str) -> None:
    with pytest.raises(UnsupportedImage, match="not a supported image") as caught:
        sniff_format(data)
    assert f"looks like {looks_like};" in str(caught.value)


def test_given_zero_bytes_then_sniff_says_empty_file() -> None:
    with pytest.raises(UnsupportedImage, match=r"^empty file$"):
        sniff_format(b"")


def test_given_png_named_jpg_then_it_decodes_as_16bit_png() -> None:
    """The name says .jpg; only the bytes count (and sniff_format never sees a name)."""
    image = decode(shared_image("plate_cn_closeup_really_png.jpg").read_bytes(), LIMITS)
    assert image.format is ImageFormat.PNG
    assert (image.width, image.height, image.bit_depth, image.has_alpha) == (1140, 456, 16, True)
    assert image.frames[0].dtype == np.uint16


# --- Orientation ----------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_given_jpeg_with_each_orientation_then_decode_returns_the_upright_pixels(
    orientation: int,
) -> None:
    upright = cases.marker_image()
    stored = cases.stored_for_orientation(upright, orientation)
    data = cases.encoded(
        stored, "JPEG", quality=100, subsampling=0, exif=cases.camera_exif(orientation)
    )

    image = decode(data, LIMITS)

    assert image.orientation == orientation
    assert image.frames[0].shape == upright.shape
    assert np.abs(image.frames[0].astype(int) - upright).max() <= 8
    with Image.open(io.BytesIO(data)) as reference:  # Pillow's own transpose agrees exactly
        assert np.array_equal(image.frames[0], np.asarray(ImageOps.exif_transpose(reference)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_given_lossless_file_with_exif_orientation_6_then_pixels_are_turned_exactly(
    fmt: str,
) -> None:
    upright = cases.marker_image()
    stored = cases.stored_for_orientation(upright, 6)
    options = {"lossless": True} if fmt == "WEBP" else {}
    image = decode(cases.encoded(stored, fmt, exif=cases.camera_exif(6), **options), LIMITS)
    assert image.orientation == 6
    assert np.array_equal(image.frames[0], upright)


def test_given_tiff_pages_with_their_own_orientation_then_each_page_is_turned() -> None:
    upright = cases.marker_image()
    pages = [cases.stored_for_orientation(upright, turn) for turn in (8, 3)]
    tagged = cases.animation(pages, "TIFF", tiffinfo={274: 8})  # Pillow tags every page alike
    data = cases.set_tiff_orientation_of_page(tagged, page=1, orientation=3)

    image = decode(data, LIMITS)

    assert image.frame_count == 2 and image.orientation == 8
    assert all(np.array_equal(frame, upright) for frame in image.frames)


def test_given_iphone_jpeg_with_orientation_6_then_it_decodes_portrait() -> None:
    image = decode(shared_image("doc_handwritten_form_iphone.jpg").read_bytes(), LIMITS)
    assert (image.width, image.height, image.orientation) == (3024, 4032, 6)


def test_given_heic_with_irot_and_orientation_6_then_it_is_turned_exactly_once() -> None:
    image = decode(shared_image("exif_iphone_orient6_arrow.heic").read_bytes(), LIMITS)

    assert image.format is ImageFormat.HEIF
    assert (image.width, image.height) == (3024, 4032)
    assert image.orientation == 6
    small = cv2.resize(detection_view(image.frames[0]), (378, 504), interpolation=cv2.INTER_AREA)
    ink = small.mean(axis=2) < 70
    rows = np.flatnonzero(ink.any(axis=1))
    widths = [np.ptp(np.flatnonzero(row)) if row.any() else 0 for row in ink]
    tip = np.flatnonzero(ink[rows[0]]).mean() / ink.shape[1]
    # The arrowhead (the widest stroke) is in the top half and its tip is centred: it points up.
    assert int(np.argmax(widths)) < ink.shape[0] // 2
    assert 0.4 < tip < 0.6
    assert ink[: ink.shape[0] // 2].sum() > ink[ink.shape[0] // 2 :].sum()


def test_given_garbage_exif_payload_then_orientation_is_1_and_decoding_goes_on() -> None:
    upright = cases.gradient()
    jpeg = cases.encoded(upright, "JPEG", quality=95)
    garbage = b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 30
    image = decode(cases.with_segments(jpeg, cases.segment(0xE1, garbage)), LIMITS)
    assert image.orientation == 1
    assert image.frames[0].shape == upright.shape
    assert image.metadata_found["exif"] == 1


def test_given_exif_ifd_that_runs_off_the_end_then_orientation_is_1() -> None:
    jpeg = cases.encoded(cases.gradient(), "JPEG")
    looping = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00\x08" * 40
    assert decode(cases.with_segments(jpeg, cases.segment(0xE1, looping)), LIMITS).orientation == 1


# --- Modes ------------------------------------------------------------------------------------


def test_given_cmyk_jpeg_without_profile_then_rgb_like_pillows_conversion() -> None:
    cmyk = Image.fromarray(cases.noise(32, 32, channels=4), "CMYK")
    data = cases.encoded(cmyk, "JPEG", quality=95)
    image = decode(data, LIMITS)
    with Image.open(io.BytesIO(data)) as reference:
        expected = np.asarray(reference.convert("RGB"))
    assert image.frames[0].shape == (32, 32, 3)
    assert np.array_equal(image.frames[0], expected)


def test_given_cmyk_jpeg_with_cmyk_profile_then_converted_through_it_and_profile_dropped() -> None:
    grey_ink = Image.new("CMYK", (16, 16), (0, 0, 0, 128))
    data = cases.encoded(grey_ink, "JPEG", quality=95, icc_profile=cases.cmyk_icc_profile())

    image = decode(data, LIMITS)

    red, green, blue = image.frames[0][8, 8]
    assert red > 90 and green < 40 and blue < 40  # the profile's red, not a plain grey
    assert image.metadata_found == {"icc": 1}
    for mode in ("keep", "sanitise"):
        output = encode(image.frames, image, icc=mode, jpeg_quality=92)
        assert (output.icc_profile, output.icc_state) == (None, "dropped")
        assert metadata_in(output.data) == {}


def test_given_palette_png_with_transparency_then_rgba_and_identical_round_trip() -> None:
    palette = Image.fromarray(cases.noise(20, 30, channels=1)[..., 0]).quantize(16)
    palette.info["transparency"] = 3
    data = cases.encoded(palette, "PNG", transparency=3)
    with Image.open(io.BytesIO(data)) as reference:
        expected = np.asarray(reference.convert("RGBA"))

    source, output, _ = _round_trip(data)

    assert source.has_alpha and (source.frames[0][..., 3] == 0).any()
    assert np.array_equal(source.frames[0], expected)
    assert np.array_equal(output.frames[0], expected)


def test_given_real_palette_png_then_rgb_and_identical_round_trip() -> None:
    data = shared_image("face_portrait_studio.png").read_bytes()
    source, output, _ = _round_trip(data)
    assert (source.width, source.height, source.has_alpha) == (960, 845, False)
    assert np.array_equal(output.frames[0], source.frames[0])


def test_given_la_png_then_grey_is_replicated_and_alpha_kept() -> None:
    la = cases.noise(10, 12, channels=2)
    image = decode(cases.encoded(Image.fromarray(la, "LA"), "PNG"), LIMITS)
    frame = image.frames[0]
    assert frame.shape == (10, 12, 4)
    assert all(np.array_equal(frame[..., c], la[..., 0]) for c in range(3))
    assert np.array_equal(frame[..., 3], la[..., 1])


def test_given_16bit_grey_png_then_uint16_kept_through_a_round_trip() -> None:
    grey = cases.noise(20, 30, channels=1, dtype=np.uint16)[..., 0]
    ok, png = cv2.imencode(".png", grey)
    assert ok
    source, output, data = _round_trip(png.tobytes())
    assert source.bit_depth == 16 and source.frames[0].shape == (20, 30, 3)
    assert np.array_equal(source.frames[0][..., 1], grey)
    assert np.array_equal(output.frames[0], source.frames[0])
    assert data[24] == 16  # the output PNG's IHDR bit depth


@pytest.mark.parametrize("channels", [3, 4])
def test_given_16bit_colour_png_then_uint16_kept_through_a_round_trip(channels: int) -> None:
    rgb = cases.noise(24, 40, channels=channels, dtype=np.uint16)
    bgr = rgb[..., [2, 1, 0, 3]] if channels == 4 else rgb[..., ::-1]
    ok, png = cv2.imencode(".png", np.ascontiguousarray(bgr))
    assert ok
    source, output, _ = _round_trip(png.tobytes())
    assert source.bit_depth == 16 and source.has_alpha is (channels == 4)
    assert np.array_equal(source.frames[0], rgb)
    assert np.array_equal(output.frames[0], rgb)


def test_given_16bit_png_with_icc_then_its_colour_tags_survive_re_encoding() -> None:
    data = shared_image("plate_cn_closeup_really_png.jpg").read_bytes()
    source, output, encoded = _round_trip(data)
    assert source.icc_profile is not None and output.icc_profile is not None
    colour = frozenset(COLOUR_TAGS)
    written, uploaded = (read_profile(p, colour) for p in (output.icc_profile, source.icc_profile))
    assert dict(written.tags) == dict(uploaded.tags) and written.header == uploaded.header
    assert np.array_equal(output.frames[0], source.frames[0])
    with Image.open(io.BytesIO(encoded)) as reopened:
        assert reopened.info["icc_profile"] == output.icc_profile
    assert_metadata_free(encoded, icc_profile=output.icc_profile)


def test_given_rgba_png_then_alpha_and_hidden_colours_survive_unchanged() -> None:
    rgba = cases.noise(30, 40, channels=4)
    rgba[:5, :, 3] = 0  # fully transparent rows whose colours must still round-trip
    source, output, _ = _round_trip(cases.encoded(rgba, "PNG"))
    assert np.array_equal(source.frames[0], rgba)
    assert np.array_equal(output.frames[0], rgba)


def test_given_bmp_then_png_output_with_identical_pixels() -> None:
    pixels = cases.noise(17, 23)
    source, output, _ = _round_trip(cases.encoded(pixels, "BMP"))
    assert source.format is ImageFormat.BMP and output.format is ImageFormat.PNG
    assert np.array_equal(output.frames[0], pixels)


@pytest.mark.parametrize("pixels", [cases.noise(16, 24), cases.noise(16, 24, channels=4)])
def test_given_tiff_then_identical_round_trip(pixels: np.ndarray) -> None:
    _, output, data = _round_trip(cases.encoded(pixels, "TIFF"))
    assert np.array_equal(output.frames[0], pixels)
    with Image.open(io.BytesIO(data)) as written:
        assert written.info["compression"] == "tiff_adobe_deflate"


def test_given_16bit_multi_page_tiff_then_every_page_round_trips_at_16_bits() -> None:
    pages = [cases.noise(12, 20, dtype=np.uint16, seed=s) for s in (1, 2)]
    ok, tiff = cv2.imencodemulti(".tiff", [np.ascontiguousarray(p[..., ::-1]) for p in pages])
    assert ok
    source, output, _ = _round_trip(tiff.tobytes())
    assert source.bit_depth == 16 and source.frame_count == 2
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, pages, strict=True))


def test_given_multi_page_tiff_then_every_page_is_decoded_and_kept() -> None:
    pages = [cases.noise(10, 14, seed=1), cases.noise(20, 8, seed=2), cases.noise(5, 5, seed=3)]
    source, output, _ = _round_trip(cases.animation(pages, "TIFF"))
    assert source.frame_count == 3 and source.frame_durations_ms is None
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, pages, strict=True))


def test_given_decoded_frames_then_they_are_read_only() -> None:
    image = decode(cases.encoded(cases.gradient(), "PNG"), LIMITS)
    with pytest.raises(ValueError, match="read-only"):
        image.frames[0][0, 0] = 0


# --- Animations -------------------------------------------------------------------------------


def _distinct_frames(count: int, channels: int = 3) -> list[np.ndarray]:
    frames = []
    for index in range(count):
        frame = np.zeros((20, 24, channels), np.uint8)
        frame[..., :3] = (40 * index, 255 - 40 * index, 90)
        frame[2 + index : 8 + index, 3:9, :3] = (250, 250, 250)
        if channels == 4:
            frame[..., 3] = 255
            frame[:, : 4 + index, 3] = 0
        frames.append(frame)
    return frames


def test_given_animated_gif_then_every_frame_duration_and_loop_round_trip() -> None:
    frames = _distinct_frames(4)
    data = cases.animation(frames, "GIF", duration=[100, 200, 300, 400], loop=0)

    source, output, _ = _round_trip(data)

    assert source.frame_count == 4
    assert source.frame_durations_ms == (100, 200, 300, 400) and source.loop == 0
    assert all(np.array_equal(a, b) for a, b in zip(source.frames, frames, strict=True))
    assert output.frame_durations_ms == (100, 200, 300, 400) and output.loop == 0
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, frames, strict=True))


def test_given_animated_gif_with_transparency_then_frames_round_trip() -> None:
    frames = _distinct_frames(3, channels=4)
    palettes = [Image.fromarray(frame).convert("RGBA") for frame in frames]
    buffer = io.BytesIO()
    palettes[0].save(
        buffer, "GIF", save_all=True, append_images=palettes[1:], duration=50, disposal=2
    )

    source, output, _ = _round_trip(buffer.getvalue())

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
    source = decode(cases.animation(_distinct_frames(2, channels), "GIF", duration=40), LIMITS)
    rich = [
        cases.gradient(20, 24, channels) + cases.noise(20, 24, channels, seed=s) % 9 for s in (1, 2)
    ]
    if channels == 4:
        for frame in rich:
            frame[:, :5, 3] = 0
            frame[:, 5:, 3] = 255

    output = decode(encode(rich, source, icc="keep", jpeg_quality=92).data, LIMITS)

    assert output.frame_count == 2
    for decoded, expected in zip(output.frames, rich, strict=True):
        visible = _visible if channels == 4 else np.asarray
        assert _psnr(visible(decoded), visible(expected)) > 25
        if channels == 4:
            assert np.array_equal(decoded[..., 3], expected[..., 3])


@pytest.mark.parametrize("lossless", [True, False])
def test_given_animated_webp_then_frames_durations_and_loop_round_trip(lossless: bool) -> None:
    frames = _distinct_frames(3, channels=4)
    data = cases.animation(
        frames, "WEBP", duration=[70, 80, 90], loop=3, lossless=lossless, exact=True
    )

    source, output, _ = _round_trip(data)

    assert source.lossless is lossless and output.lossless is lossless
    assert source.frame_count == 3 and output.frame_count == 3
    assert source.frame_durations_ms == (70, 80, 90) and source.loop == 3
    assert output.frame_durations_ms == (70, 80, 90) and output.loop == 3
    for decoded, expected in zip(output.frames, source.frames, strict=True):
        if lossless:
            assert np.array_equal(decoded, expected)
        else:
            assert _psnr(decoded, expected) > 35


def test_given_apng_then_every_frame_round_trips() -> None:
    frames = _distinct_frames(3, channels=4)
    data = cases.animation(frames, "PNG", duration=[30, 60, 90], loop=2)
    source, output, _ = _round_trip(data)
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
    source = decode(shared_image("face_portrait_closeup.jpg").read_bytes(), LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    again = decode(output.data, LIMITS)
    assert (output.format, output.width, output.height) == (ImageFormat.JPEG, 1424, 1494)
    assert _psnr(again.frames[0], source.frames[0]) > 40
    with Image.open(io.BytesIO(output.data)) as written:
        assert written.layer == [(1, 1, 1, 0), (2, 1, 1, 1), (3, 1, 1, 1)]  # 4:4:4


def test_given_heic_with_alpha_then_jpeg_output_is_composited_on_white() -> None:
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 24:, 3] = 255  # left half fully transparent, right half opaque red
    heic = cases.encoded(rgba, "HEIF", quality=-1)
    source = decode(heic, LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=95)
    pixels = decode(output.data, LIMITS).frames[0].astype(int)
    assert source.has_alpha and output.format is ImageFormat.JPEG
    assert np.abs(pixels[16, 4] - (255, 255, 255)).max() <= 6
    assert pixels[16, 40, 0] > 150 and pixels[16, 40, 1] < 60


def test_given_real_heic_then_jpeg_output_has_its_size_and_pixels() -> None:
    source = decode(shared_image("exif_iphone_gps.heic").read_bytes(), LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    assert (output.format, output.width, output.height) == (ImageFormat.JPEG, 4032, 3024)
    assert _psnr(decode(output.data, LIMITS).frames[0], source.frames[0]) > 40


def test_given_lossy_webp_then_lossy_webp_output_close_to_input() -> None:
    source, output, data = _round_trip(cases.encoded(cases.gradient(64, 96), "WEBP", quality=95))
    assert source.lossless is False
    assert b"VP8 " in data and b"VP8L" not in data
    assert _psnr(output.frames[0], source.frames[0]) > 35


def test_given_lossless_webp_then_lossless_identical_output() -> None:
    rgba = cases.noise(20, 30, channels=4)
    rgba[0, :, 3] = 0
    source, output, data = _round_trip(cases.encoded(rgba, "WEBP", lossless=True, exact=True))
    assert source.lossless is True and b"VP8L" in data
    assert np.array_equal(output.frames[0], rgba)


def test_given_wrong_frame_count_then_encode_refuses() -> None:
    source = decode(cases.encoded(cases.gradient(), "PNG"), LIMITS)
    with pytest.raises(ValueError, match="got 2 frames for an image of 1"):
        encode([source.frames[0]] * 2, source, icc="keep", jpeg_quality=92)


def test_given_float_frame_then_encode_refuses() -> None:
    source = decode(cases.encoded(cases.gradient(), "PNG"), LIMITS)
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
    frame = decode(cases.encoded(cases.gradient(), "PNG"), LIMITS).frames[0]
    view = detection_view(frame)
    view[0, 0] = (1, 2, 3)
    assert view.flags.writeable and not np.shares_memory(view, frame)
    assert np.array_equal(view[1:], frame[1:])


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
        decode(cases.bilevel_bomb_png(), LIMITS)


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
        decode(data, LIMITS)


def test_given_file_over_max_bytes_then_too_large_before_sniffing() -> None:
    with pytest.raises(ImageTooLarge, match="the file is 2000 bytes, above the limit of 1000"):
        decode(b"\x00" * 2000, Limits(max_file_bytes=1000))


def test_given_more_frames_than_allowed_then_too_large() -> None:
    data = cases.animation(_distinct_frames(5), "GIF", duration=40)
    with pytest.raises(ImageTooLarge, match="GIF has 5 frames, above the limit of 3"):
        decode(data, Limits(max_frames=3))


def test_given_frames_adding_up_over_the_total_then_too_large() -> None:
    data = cases.animation(_distinct_frames(5), "WEBP", duration=40, lossless=True)
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
        decode(data, LIMITS)
    message = str(caught.value)
    assert "\\x" not in message and "b'" not in message and "BytesIO" not in message


def test_given_load_truncated_images_switched_on_then_decode_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ConfigError, match="LOAD_TRUNCATED_IMAGES"):
        decode(cases.encoded(cases.gradient(), "PNG"), LIMITS)


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
        decode(data, LIMITS)


def test_given_32bit_float_tiff_then_unsupported() -> None:
    data = cases.encoded(Image.fromarray(np.zeros((4, 4), np.float32), "F"), "TIFF")
    with pytest.raises(UnsupportedImage, match="F pixels are not supported"):
        decode(data, LIMITS)


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
    image = decode(shared_image(name).read_bytes(), LIMITS)
    assert image.format is fmt
    assert (image.width, image.height) == size
    assert (image.has_alpha, image.bit_depth, image.frame_count) == (alpha, depth, 1)


def test_given_screenshot_rgba_png_then_identical_round_trip() -> None:
    source, output, _ = _round_trip(shared_image("screen_web_page.png").read_bytes())
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

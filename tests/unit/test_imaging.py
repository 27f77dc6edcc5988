"""Sniffing, and decoding: orientation and colour modes."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from redactor.containers import ImageFormat, assert_metadata_free, metadata_in, sniff_format
from redactor.containers.icc import COLOUR_TAGS, read_profile
from redactor.errors import UnsupportedImage
from redactor.imaging import (
    decode,
    detection_view,
    encode,
)
from tests.support import shared_image
from tests.unit import imaging_cases as cases

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
    image = decode(shared_image("plate_cn_closeup_really_png.jpg").read_bytes(), cases.LIMITS)
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

    image = decode(data, cases.LIMITS)

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
    image = decode(cases.encoded(stored, fmt, exif=cases.camera_exif(6), **options), cases.LIMITS)
    assert image.orientation == 6
    assert np.array_equal(image.frames[0], upright)


def test_given_tiff_pages_with_their_own_orientation_then_each_page_is_turned() -> None:
    upright = cases.marker_image()
    pages = [cases.stored_for_orientation(upright, turn) for turn in (8, 3)]
    tagged = cases.animation(pages, "TIFF", tiffinfo={274: 8})  # Pillow tags every page alike
    data = cases.set_tiff_orientation_of_page(tagged, page=1, orientation=3)

    image = decode(data, cases.LIMITS)

    assert image.frame_count == 2 and image.orientation == 8
    assert all(np.array_equal(frame, upright) for frame in image.frames)


def test_given_iphone_jpeg_with_orientation_6_then_it_decodes_portrait() -> None:
    image = decode(shared_image("doc_handwritten_form_iphone.jpg").read_bytes(), cases.LIMITS)
    assert (image.width, image.height, image.orientation) == (3024, 4032, 6)


def test_given_heic_with_irot_and_orientation_6_then_it_is_turned_exactly_once() -> None:
    image = decode(shared_image("exif_iphone_orient6_arrow.heic").read_bytes(), cases.LIMITS)

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
    image = decode(cases.with_segments(jpeg, cases.segment(0xE1, garbage)), cases.LIMITS)
    assert image.orientation == 1
    assert image.frames[0].shape == upright.shape
    assert image.metadata_found["exif"] == 1


def test_given_exif_ifd_that_runs_off_the_end_then_orientation_is_1() -> None:
    jpeg = cases.encoded(cases.gradient(), "JPEG")
    looping = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00\x08" * 40
    assert (
        decode(cases.with_segments(jpeg, cases.segment(0xE1, looping)), cases.LIMITS).orientation
        == 1
    )


# --- Modes ------------------------------------------------------------------------------------


def test_given_cmyk_jpeg_without_profile_then_rgb_like_pillows_conversion() -> None:
    cmyk = Image.fromarray(cases.noise(32, 32, channels=4), "CMYK")
    data = cases.encoded(cmyk, "JPEG", quality=95)
    image = decode(data, cases.LIMITS)
    with Image.open(io.BytesIO(data)) as reference:
        expected = np.asarray(reference.convert("RGB"))
    assert image.frames[0].shape == (32, 32, 3)
    assert np.array_equal(image.frames[0], expected)


def test_given_cmyk_jpeg_with_cmyk_profile_then_converted_through_it_and_profile_dropped() -> None:
    grey_ink = Image.new("CMYK", (16, 16), (0, 0, 0, 128))
    data = cases.encoded(grey_ink, "JPEG", quality=95, icc_profile=cases.cmyk_icc_profile())

    image = decode(data, cases.LIMITS)

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

    source, output, _ = cases.round_trip(data)

    assert source.has_alpha and (source.frames[0][..., 3] == 0).any()
    assert np.array_equal(source.frames[0], expected)
    assert np.array_equal(output.frames[0], expected)


def test_given_real_palette_png_then_rgb_and_identical_round_trip() -> None:
    data = shared_image("face_portrait_studio.png").read_bytes()
    source, output, _ = cases.round_trip(data)
    assert (source.width, source.height, source.has_alpha) == (960, 845, False)
    assert np.array_equal(output.frames[0], source.frames[0])


def test_given_la_png_then_grey_is_replicated_and_alpha_kept() -> None:
    la = cases.noise(10, 12, channels=2)
    image = decode(cases.encoded(Image.fromarray(la, "LA"), "PNG"), cases.LIMITS)
    frame = image.frames[0]
    assert frame.shape == (10, 12, 4)
    assert all(np.array_equal(frame[..., c], la[..., 0]) for c in range(3))
    assert np.array_equal(frame[..., 3], la[..., 1])


def test_given_16bit_grey_png_then_uint16_kept_through_a_round_trip() -> None:
    grey = cases.noise(20, 30, channels=1, dtype=np.uint16)[..., 0]
    ok, png = cv2.imencode(".png", grey)
    assert ok
    source, output, data = cases.round_trip(png.tobytes())
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
    source, output, _ = cases.round_trip(png.tobytes())
    assert source.bit_depth == 16 and source.has_alpha is (channels == 4)
    assert np.array_equal(source.frames[0], rgb)
    assert np.array_equal(output.frames[0], rgb)


def test_given_16bit_png_with_icc_then_its_colour_tags_survive_re_encoding() -> None:
    data = shared_image("plate_cn_closeup_really_png.jpg").read_bytes()
    source, output, encoded = cases.round_trip(data)
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
    source, output, _ = cases.round_trip(cases.encoded(rgba, "PNG"))
    assert np.array_equal(source.frames[0], rgba)
    assert np.array_equal(output.frames[0], rgba)


def test_given_bmp_then_png_output_with_identical_pixels() -> None:
    pixels = cases.noise(17, 23)
    source, output, _ = cases.round_trip(cases.encoded(pixels, "BMP"))
    assert source.format is ImageFormat.BMP and output.format is ImageFormat.PNG
    assert np.array_equal(output.frames[0], pixels)


@pytest.mark.parametrize("pixels", [cases.noise(16, 24), cases.noise(16, 24, channels=4)])
def test_given_tiff_then_identical_round_trip(pixels: np.ndarray) -> None:
    _, output, data = cases.round_trip(cases.encoded(pixels, "TIFF"))
    assert np.array_equal(output.frames[0], pixels)
    with Image.open(io.BytesIO(data)) as written:
        assert written.info["compression"] == "tiff_adobe_deflate"


def test_given_16bit_multi_page_tiff_then_every_page_round_trips_at_16_bits() -> None:
    pages = [cases.noise(12, 20, dtype=np.uint16, seed=s) for s in (1, 2)]
    ok, tiff = cv2.imencodemulti(".tiff", [np.ascontiguousarray(p[..., ::-1]) for p in pages])
    assert ok
    source, output, _ = cases.round_trip(tiff.tobytes())
    assert source.bit_depth == 16 and source.frame_count == 2
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, pages, strict=True))


def test_given_multi_page_tiff_then_every_page_is_decoded_and_kept() -> None:
    pages = [cases.noise(10, 14, seed=1), cases.noise(20, 8, seed=2), cases.noise(5, 5, seed=3)]
    source, output, _ = cases.round_trip(cases.animation(pages, "TIFF"))
    assert source.frame_count == 3 and source.frame_durations_ms is None
    assert all(np.array_equal(a, b) for a, b in zip(output.frames, pages, strict=True))


def test_given_decoded_frames_then_they_are_read_only() -> None:
    image = decode(cases.encoded(cases.gradient(), "PNG"), cases.LIMITS)
    with pytest.raises(ValueError, match="read-only"):
        image.frames[0][0, 0] = 0

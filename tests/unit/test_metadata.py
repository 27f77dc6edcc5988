"""Metadata: what metadata_in finds in containers, and that none of it survives decode+encode."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from redactor.containers import MetadataLeak, assert_metadata_free, inspect, metadata_in
from redactor.containers.exif import Orientation, exif_orientation
from redactor.containers.icc import write_profile
from redactor.errors import RedactorError
from redactor.imaging import EncodedImage, decode, encode
from redactor.imaging.profiles import canonical_profiles
from redactor.options import IccMode, Limits
from tests.support import shared_image
from tests.unit import imaging_cases as cases

LIMITS = Limits()


def _encoded(data: bytes, icc: IccMode = "sanitise") -> EncodedImage:
    """Decode and re-encode unchanged, as the pipeline does when nothing is found."""
    source = decode(data, LIMITS)
    return encode(source.frames, source, icc=icc, jpeg_quality=92)


def _redacted(data: bytes, icc: IccMode = "sanitise") -> bytes:
    return _encoded(data, icc).data


#: redactor's own sRGB profile, which replaces every sRGB profile under ``sanitise``.
CANONICAL_SRGB = write_profile(canonical_profiles()["sRGB"])


def _secrets_in(data: bytes, secrets: tuple[bytes, ...] = cases.SECRETS) -> list[bytes]:
    return [secret for secret in secrets if secret in data]


# --- What metadata_in finds --------------------------------------------------------------------

_EXIF_GROUPS = {"exif": 3, "gps": 3, "exif_thumbnail": 1}


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            cases.jpeg_full_of_metadata,
            _EXIF_GROUPS | {"xmp": 1, "iptc": 2, "photoshop_irb": 1, "jpeg_comment": 1, "icc": 1},
        ),
        (
            cases.png_full_of_metadata,
            _EXIF_GROUPS | {"png_exif": 1, "png_text": 3, "png_time": 1, "xmp": 1, "icc": 1},
        ),
        (
            lambda: cases.webp_full_of_metadata(lossless=False),
            _EXIF_GROUPS | {"webp_exif": 1, "webp_xmp": 1, "icc": 1},
        ),
        (
            cases.heic_with_metadata,
            _EXIF_GROUPS | {"heif_exif": 1, "heif_xmp": 1, "icc": 1},
        ),
        (
            cases.tiff_full_of_metadata,
            {"exif": 3, "gps": 2, "xmp": 1, "iptc": 2, "icc": 1},
        ),
        (cases.gif_with_comment_and_xmp, {"gif_comment": 1, "xmp": 1}),
    ],
    ids=["jpeg", "png", "webp", "heic", "tiff", "gif"],
)
def test_given_container_with_metadata_then_metadata_in_counts_each_group(
    build: Callable[[], bytes], expected: dict[str, int]
) -> None:
    assert metadata_in(build()) == expected


def test_given_bare_images_then_metadata_in_finds_nothing() -> None:
    pixels = cases.gradient()
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP"):
        assert metadata_in(cases.encoded(pixels, fmt)) == {}, fmt


@pytest.mark.parametrize(
    ("extra", "group"),
    [
        (cases.segment(0xEC, b"Ducky\x00\x01\x00\x04\x00\x00\x00\x50"), "jpeg_app12"),
        (cases.segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00"), "mpf"),
        (cases.segment(0xE0, b"JFXX\x00\x10" + b"\xff\xd8\xff\xd9"), "jfif_thumbnail"),
        (cases.segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 40), "xmp"),
        (cases.segment(0xE1, b"Exif\x00\x00" + b"garbage"), "exif"),
    ],
)
def test_given_jpeg_app_segment_then_its_group_is_found(extra: bytes, group: str) -> None:
    jpeg = cases.with_segments(cases.encoded(cases.gradient(), "JPEG"), extra)
    assert metadata_in(jpeg) == {group: 1}


def test_given_bytes_after_jpeg_end_then_trailing_data_is_found() -> None:
    jpeg = cases.encoded(cases.gradient(), "JPEG")
    second_picture = cases.encoded(cases.noise(8, 8), "JPEG", exif=cases.camera_exif())
    assert metadata_in(jpeg + second_picture) == {"trailing_data": 1}


def test_given_marker_bytes_inside_entropy_data_then_they_are_not_segments() -> None:
    """Progressive scans and restart markers: 0xFF00 and RSTn inside scans are skipped."""
    jpeg = cases.encoded(cases.noise(64, 64), "JPEG", progressive=True, restart_marker_rows=1)
    assert metadata_in(jpeg) == {}


def test_given_png_with_private_chunk_and_data_after_iend_then_both_are_found() -> None:
    png = cases.with_png_chunks(
        cases.encoded(cases.gradient(), "PNG"), cases.png_chunk(b"prVW", b"x")
    )
    assert metadata_in(png + b"hidden") == {"png_unknown_chunks": 1, "trailing_data": 1}


def test_given_webp_with_unknown_chunk_then_it_is_found() -> None:
    webp = cases.encoded(cases.gradient(), "WEBP", lossless=True)
    extra = b"ABCD" + struct.pack("<I", 3) + b"xyz\x00"
    riff = b"RIFF" + struct.pack("<I", len(webp) - 8 + len(extra)) + webp[8:] + extra
    assert metadata_in(riff) == {"webp_unknown_chunks": 1}


def test_given_multi_page_tiff_then_metadata_on_a_later_page_is_found() -> None:
    pages = [Image.fromarray(cases.gradient()) for _ in range(2)]
    pages[1].encoderinfo = {"tiffinfo": {315: cases.SECRET_ARTIST}}
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    assert metadata_in(buffer.getvalue()) == {"exif": 1}


# --- Nothing survives decode + encode ----------------------------------------------------------


_BUILDERS = {
    "jpeg": cases.jpeg_full_of_metadata,
    "png": cases.png_full_of_metadata,
    "webp-lossy": lambda: cases.webp_full_of_metadata(lossless=False),
    "webp-lossless": lambda: cases.webp_full_of_metadata(lossless=True),
    "heic": cases.heic_with_metadata,
    "tiff": cases.tiff_full_of_metadata,
}


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_given_image_full_of_metadata_then_output_has_only_the_icc_profile(name: str) -> None:
    data = _BUILDERS[name]()
    assert _secrets_in(data), "the input should carry the secrets"

    encoded = _encoded(data)
    output = encoded.data

    assert _secrets_in(output) == []
    assert metadata_in(output) == {"icc": 1}
    assert (encoded.icc_profile, encoded.icc_state) == (CANONICAL_SRGB, "replaced")
    with Image.open(io.BytesIO(output)) as written:
        assert written.info["icc_profile"] == CANONICAL_SRGB
        if written.format != "TIFF":  # a TIFF's EXIF view lists its own structural tags
            assert not written.getexif()
        assert "xmp" not in written.info and "XML:com.adobe.xmp" not in written.info
    assert_metadata_free(output, icc_profile=CANONICAL_SRGB)


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_given_icc_drop_then_output_has_no_metadata_at_all(name: str) -> None:
    output = _redacted(_BUILDERS[name](), "drop")
    assert metadata_in(output) == {}
    assert b"lcms" not in output and b"acsp" not in output  # the ICC header's signatures
    assert_metadata_free(output, icc_profile=None)


def test_given_jpeg_with_icc_then_the_uploads_profile_bytes_are_never_written() -> None:
    for mode in ("sanitise", "keep"):
        output = _redacted(cases.jpeg_full_of_metadata(), mode)
        assert cases.SRGB_ICC not in output and b"sRGB built-in" not in output


def test_given_exif_thumbnail_then_no_second_picture_reaches_the_output() -> None:
    data = cases.jpeg_full_of_metadata()
    assert data.count(b"\xff\xd8\xff") == 2 and cases.THUMBNAIL_MARKER in data
    output = _redacted(data)
    assert output.count(b"\xff\xd8\xff") == 1
    assert cases.THUMBNAIL_MARKER not in output


def test_given_png_text_and_time_chunks_then_none_is_written() -> None:
    output = _redacted(cases.png_full_of_metadata())
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"tIME", b"eXIf"):
        assert chunk not in output


def test_given_webp_metadata_then_no_exif_or_xmp_chunk_is_written() -> None:
    output = _redacted(cases.webp_full_of_metadata(lossless=True))
    assert b"EXIF" not in output and b"XMP " not in output and b"ICCP" in output


def test_given_gif_comment_and_xmp_then_neither_is_written() -> None:
    output = _redacted(cases.gif_with_comment_and_xmp())
    assert metadata_in(output) == {}
    assert cases.SECRET_COMMENT not in output and b"XMP Data" not in output


# --- Real files --------------------------------------------------------------------------------

_REAL_FILES = {
    "exif_thumbnail_leak_olympus.jpg": (b"OLYMPUS", b"E-P3"),
    "exif_canon_gps_serial_artist.jpg": (b"123063022888", b"0000129324", b"Patrik", b"Canon"),
    "exif_png_exif_chunk_gps.png": (b"Canon", b"PowerShot"),
    "exif_iphone_gps.heic": (b"iPhone XS Max",),  # "Apple" stays: it is in the ICC profile
    "face_two_nikon_exif.jpg": (b"2001881", b"FRPASSAQUAY", b"NIKON"),
    "plate_cn_closeup_really_png.jpg": (b"eXIf", b"xmpmeta"),
    "face_portrait_studio.png": (),
    "screen_web_page.png": (b"Screenshot",),
    "doc_handwritten_form_iphone.jpg": (b"iPhone XS Max", b"Apple iOS"),
}


@pytest.mark.parametrize("name", sorted(_REAL_FILES))
def test_given_real_file_then_output_carries_no_metadata_but_icc(name: str) -> None:
    data = shared_image(name).read_bytes()
    secrets = _REAL_FILES[name]
    assert all(secret in data for secret in secrets), "the input should carry these"

    encoded = _encoded(data)

    assert metadata_in(encoded.data) in ({}, {"icc": 1})
    assert _secrets_in(encoded.data, (*secrets, *cases.SECRETS)) == []
    assert_metadata_free(encoded.data, icc_profile=encoded.icc_profile)


@pytest.mark.parametrize(
    ("name", "groups"),
    [
        ("exif_thumbnail_leak_olympus.jpg", {"exif", "makernote", "exif_thumbnail"}),
        ("exif_canon_gps_serial_artist.jpg", {"exif", "gps", "xmp", "iptc", "exif_thumbnail"}),
        ("exif_png_exif_chunk_gps.png", {"png_exif", "gps", "xmp", "png_text", "png_time"}),
        ("exif_iphone_gps.heic", {"heif_exif", "gps", "makernote", "icc", "heif_thumbnail"}),
        ("face_two_nikon_exif.jpg", {"exif", "iptc", "xmp", "photoshop_thumbnail", "icc"}),
        ("doc_handwritten_form_iphone.jpg", {"exif", "gps", "makernote", "icc"}),
    ],
)
def test_given_real_file_then_metadata_found_names_its_groups(name: str, groups: set[str]) -> None:
    found = decode(shared_image(name).read_bytes(), LIMITS).metadata_found
    assert groups <= found.keys()
    assert all(isinstance(count, int) and count >= 1 for count in found.values())


def test_given_olympus_thumbnail_leak_then_the_old_photo_is_gone() -> None:
    data = shared_image("exif_thumbnail_leak_olympus.jpg").read_bytes()
    output = _redacted(data)
    assert data.count(b"\xff\xd8\xff") >= 2
    assert output.count(b"\xff\xd8\xff") == 1
    with Image.open(io.BytesIO(output)) as written:
        assert written.size == (80, 80)


# --- assert_metadata_free ----------------------------------------------------------------------


def test_given_metadata_then_assert_metadata_free_names_the_groups_only() -> None:
    with pytest.raises(MetadataLeak) as caught:
        assert_metadata_free(cases.jpeg_full_of_metadata(), icc_profile=None)
    message = str(caught.value)
    assert message == (
        "the encoded image still carries metadata: "
        "exif, exif_thumbnail, gps, iptc, jpeg_comment, photoshop_irb, xmp"
    )
    assert caught.value.code == "metadata_leak" and isinstance(caught.value, RedactorError)


def test_given_icc_only_then_allowed_only_when_it_is_the_clean_profile_redactor_wrote() -> None:
    ours = cases.encoded(cases.gradient(), "JPEG", icc_profile=CANONICAL_SRGB)
    assert_metadata_free(ours, icc_profile=CANONICAL_SRGB)
    with pytest.raises(MetadataLeak, match=r"carries metadata: icc$"):
        assert_metadata_free(ours, icc_profile=None)
    theirs = cases.encoded(cases.gradient(), "JPEG", icc_profile=cases.SRGB_ICC)
    with pytest.raises(MetadataLeak, match="did not write"):
        assert_metadata_free(theirs, icc_profile=CANONICAL_SRGB)
    with pytest.raises(MetadataLeak, match="text redactor did not write"):
        assert_metadata_free(theirs, icc_profile=cases.SRGB_ICC)


# --- EXIF helpers ------------------------------------------------------------------------------


def _exif_with_orientation_entry(kind: int, value: bytes) -> bytes:
    return (
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01"
        + struct.pack(">HHI", 0x0112, kind, 1)
        + value
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (cases.camera_exif(6), 6),
        (cases.camera_exif(), 1),
        (cases.camera_exif(3)[6:], 3),  # without the "Exif\0\0" header, as in PNG eXIf
        (b"Exif\x00\x00" + b"\xde\xad" * 20, 1),
        (b"", 1),
        (_exif_with_orientation_entry(3, b"\x00\x08\x00\x00"), 8),
        (b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05", 1),  # 5 entries promised, none there
    ],
)
def test_exif_orientation(block: bytes, expected: int) -> None:
    assert exif_orientation(block) == Orientation(expected)


@pytest.mark.parametrize(
    ("block", "shown"),
    [
        (_exif_with_orientation_entry(3, b"\x00\x09\x00\x00"), "9"),
        (_exif_with_orientation_entry(2, b"six\x00"), "a value that is not a number"),
    ],
)
def test_given_unusable_orientation_value_then_1_with_a_note(block: bytes, shown: str) -> None:
    assert exif_orientation(block) == Orientation(
        1, f"the EXIF Orientation tag holds {shown}, not 1-8: treated as 1"
    )


@pytest.mark.parametrize(
    ("data", "lossless"),
    [
        (cases.encoded(cases.gradient(), "WEBP", lossless=True), True),
        (cases.encoded(cases.gradient(), "WEBP", quality=90), False),
        (cases.encoded(cases.gradient(channels=4), "WEBP", quality=90), False),
        (cases.animation([cases.gradient(), cases.noise(48, 64)], "WEBP", lossless=True), True),
        (cases.animation([cases.gradient(), cases.noise(48, 64)], "WEBP", quality=90), False),
    ],
)
def test_given_webp_then_inspection_says_whether_every_bitstream_is_lossless(
    data: bytes, lossless: bool
) -> None:
    assert inspect(data).lossless is lossless


# --- Robustness --------------------------------------------------------------------------------


def _tiff_with_ifd_loop() -> bytes:
    entry = struct.pack("<HHII", 315, 2, 4, 0x41414141)
    return b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 1) + entry + struct.pack("<I", 8)


@pytest.mark.parametrize(
    "data",
    [
        _tiff_with_ifd_loop(),
        b"II*\x00\xff\xff\xff\xff",
        b"MM\x00+\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10",
        b"\xff\xd8\xff\xe1\x00\x00\xff\xe1\x00\x01\xff",
        b"\xff\xd8" + b"\xff" * 1000,
        b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR",
        b"GIF89a\x01\x00\x01\x00\xf7\x00\x00" + b"\x21\xfe\xff" + b"x" * 10,
        b"RIFF\xff\xff\xff\xffWEBPEXIF\xff\xff\xff\xff",
        b"RIFF\x04\x00\x00\x00WEBP",
        cases.with_segments(
            b"\xff\xd8\xff\xd9", cases.segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04")
        ),
    ],
)
def test_given_malformed_container_then_metadata_in_ends_without_crashing(data: bytes) -> None:
    try:
        groups = metadata_in(data)
    except RedactorError:
        return
    assert all(isinstance(count, int) and count > 0 for count in groups.values())


_SEEDS = [
    cases.jpeg_full_of_metadata(),
    cases.png_full_of_metadata(cases.gradient(8, 8, channels=4)),
    cases.webp_full_of_metadata(lossless=True),
    cases.tiff_full_of_metadata(),
    cases.gif_with_comment_and_xmp(),
]


@pytest.mark.reliability
@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    seed=st.sampled_from(_SEEDS),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_given_mutated_container_then_metadata_in_returns_or_raises_a_redactor_error(
    seed: bytes, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(seed[: max(1, int(len(seed) * cut))] if cut < 0.99 else seed)
    for where, value in flips:
        data[min(len(data) - 1, int(where * len(data)))] = value
    try:
        groups = metadata_in(bytes(data))
    except RedactorError:
        return
    assert all(isinstance(count, int) and count > 0 for count in groups.values())


@pytest.mark.reliability
@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(seed=st.sampled_from(_SEEDS), flips=st.lists(st.integers(0, 10**9), min_size=1, max_size=6))
def test_given_mutated_image_then_decode_returns_or_raises_a_redactor_error(
    seed: bytes, flips: list[int]
) -> None:
    data = bytearray(seed)
    for flip in flips:
        data[flip % len(data)] ^= 1 + flip % 255
    try:
        image = decode(bytes(data), LIMITS)
    except RedactorError:
        return
    assert image.frame_count >= 1 and image.frames[0].dtype in (np.uint8, np.uint16)

"""ICC profiles: reading and writing tags, the output check, and what each mode keeps."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from redactor.colour import ciede2000
from redactor.containers.icc import (
    COLOUR_TAGS,
    COPYRIGHT,
    SANITISED_DESCRIPTION,
    read_profile,
    tag_table,
    write_profile,
    written_profile_problems,
)
from redactor.containers.icc_types import IccError, read_value, write_value
from redactor.imaging.profiles import (
    CANONICAL_DELTA_E,
    MAX_PROFILE_BYTES,
    canonical_profiles,
    chart_lab,
    choose_profile,
    rebuild,
)
from tests.support import SHARED_IMAGES
from tests.unit import icc_cases
from tests.unit import imaging_cases as cases


def _real_profiles() -> Iterator[tuple[str, bytes]]:
    """Each distinct profile of the shared test images (cameras, phones, monitors)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    seen: set[bytes] = set()
    for path in sorted(SHARED_IMAGES.iterdir()):
        if path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".heic", ".webp"}:
            continue
        with Image.open(path) as image:
            profile = image.info.get("icc_profile")
        if profile and profile not in seen:
            seen.add(profile)
            yield path.name, profile


REAL_PROFILES = dict(_real_profiles())


# --- Tags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_PROFILES))
def test_given_real_profile_then_every_colour_tag_round_trips_exactly(name: str) -> None:
    for signature, raw in tag_table(REAL_PROFILES[name]):
        if signature in COLOUR_TAGS:
            written = write_value(read_value(raw))
            assert raw[: len(written)] == written[:4] + raw[4:8] + written[8:]
            assert read_value(written) == read_value(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"XYZ \x00\x00\x00\x00\x00\x01",  # no whole XYZ number
        b"curv\x00\x00\x00\x00\x00\x00\x00\x09\x00\x01",  # nine entries promised, one given
        b"para\x00\x00\x00\x00\x00\x07\x00\x00" + b"\x00" * 28,  # no such function
        b"zPRV\x00\x00\x00\x00" + b"anything at all",  # a private type
        b"mft2\x00\x00\x00\x00\x03\x03\x02\x00" + b"\x00" * 40,  # tables missing
    ],
)
def test_given_short_or_unknown_tag_then_read_value_refuses(raw: bytes) -> None:
    with pytest.raises(IccError):
        read_value(raw)


# --- The output check ------------------------------------------------------------------------


def _canonical(name: str = "sRGB") -> bytes:
    return write_profile(canonical_profiles()[name])


def test_given_profiles_redactor_writes_then_the_check_passes() -> None:
    assert written_profile_problems(_canonical("sRGB")) == []
    assert written_profile_problems(_canonical("Display P3")) == []
    for name, profile in REAL_PROFILES.items():
        choice = choose_profile(profile, "keep")
        assert choice.profile is not None, name
        assert written_profile_problems(choice.profile) == [], name


@pytest.mark.parametrize("name", sorted(icc_cases.PROFILES))
def test_given_profile_with_planted_text_then_the_check_refuses_it(name: str) -> None:
    problems = written_profile_problems(icc_cases.PROFILES[name]())
    assert problems
    assert not any(icc_cases.planted_in(problem.encode()) for problem in problems)


def test_given_own_profile_with_one_foreign_text_then_the_check_refuses_it() -> None:
    tags = icc_cases.tags_of(_canonical())
    header = _canonical()[:128]
    swapped = [
        (sig, icc_cases.mluc(("enUS", icc_cases.NAME)) if sig == b"cprt" else data)
        for sig, data in tags
    ]
    assert written_profile_problems(icc_cases.build(header, swapped)) == [
        "the colour profile holds text redactor did not write"
    ]
    extra = icc_cases.build(header, [*tags, (b"dmnd", icc_cases.desc(icc_cases.STREET))])
    assert "the colour profile holds a tag that is not colour data" in written_profile_problems(
        extra
    )


def test_given_own_profile_with_bytes_in_a_gap_or_header_then_the_check_refuses_it() -> None:
    own = _canonical()
    gap = icc_cases.build(own[:128], icc_cases.tags_of(own), gap=b"alice@example.com\x00\x00\x00")
    device = bytearray(own)
    device[48:52] = b"JANE"
    trailing = own + b"bob!"
    for profile in (gap, bytes(device), trailing):
        assert written_profile_problems(profile) == [
            "the colour profile holds bytes outside its colour data"
        ]


def test_given_cmyk_or_unreadable_profile_then_the_check_refuses_it() -> None:
    assert "the colour profile is not an RGB profile" in written_profile_problems(
        cases.cmyk_icc_profile()
    )
    assert written_profile_problems(b"not a profile at all" * 10)[0].startswith(
        "the colour profile cannot be read exactly"
    )


# --- Modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(icc_cases.PROFILES))
@pytest.mark.parametrize("mode", ["sanitise", "keep", "drop"])
def test_given_planted_profile_then_no_mode_writes_its_text(name: str, mode: str) -> None:
    source = icc_cases.PROFILES[name]()
    assert icc_cases.planted_in(source)
    choice = choose_profile(source, mode)  # type: ignore[arg-type]
    if choice.profile is not None:
        assert icc_cases.planted_in(choice.profile) == []
        assert written_profile_problems(choice.profile) == []
    expected = {"drop": "dropped", "sanitise": icc_cases.SANITISE_STATES[name]}.get(
        mode, "dropped" if name == "cmyk" else "sanitised"
    )
    assert choice.state == expected


def test_given_sanitised_profile_then_it_has_fixed_text_and_only_colour_tags() -> None:
    choice = choose_profile(icc_cases.wide_gamut_with_text(), "sanitise")
    assert choice.profile is not None
    profile = read_profile(choice.profile)
    assert [sig for sig, _ in profile.tags] == [
        b"desc", b"cprt", b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"
    ]  # fmt: skip
    assert SANITISED_DESCRIPTION.encode() in choice.profile and COPYRIGHT.encode() in choice.profile
    header = choice.profile[:128]
    for start, end in ((4, 8), (24, 36), (40, 64), (80, 128)):  # CMM, date, device, creator, id
        assert header[start:end] == b"\x00" * (end - start)


def test_given_redactors_own_profile_then_keep_and_sanitise_keep_it_byte_for_byte() -> None:
    for name in ("sRGB", "Display P3"):
        for mode in ("keep", "sanitise"):
            assert choose_profile(_canonical(name), mode).state == "kept"  # type: ignore[arg-type]
    sanitised = choose_profile(icc_cases.wide_gamut_with_text(), "keep").profile
    assert choose_profile(sanitised, "keep").state == "kept"


def test_given_hidden_bytes_inside_a_lookup_table_then_the_rebuilt_table_has_none() -> None:
    rebuilt = rebuild(icc_cases.lut_rgb_with_text())
    assert rebuilt is not None and rebuilt.tag(b"A2B0") is not None
    assert icc_cases.GAP.encode() not in write_profile(rebuilt)


def test_given_profile_without_colour_tags_or_too_large_then_it_is_dropped() -> None:
    header = cases.SRGB_ICC[:128]
    only_text = icc_cases.build(
        header, [(b"desc", icc_cases.desc("x")), (b"cprt", icc_cases.text("y"))]
    )
    assert choose_profile(only_text, "keep").state == "dropped"
    huge_curve = b"curv\x00\x00\x00\x00" + struct.pack(">I", 600_000) + b"\x00\x01" * 600_000
    tags = [
        (sig, huge_curve if sig == b"rTRC" else data)
        for sig, data in icc_cases.tags_of(cases.SRGB_ICC)
    ]
    assert len(write_profile(read_profile(icc_cases.build(header, tags)))) > MAX_PROFILE_BYTES
    assert choose_profile(icc_cases.build(header, tags), "keep").state == "dropped"
    assert choose_profile(b"\x00" * 300, "sanitise").state == "dropped"
    assert choose_profile(None, "sanitise").state == "absent"


# --- Colour ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_PROFILES))
def test_given_real_profile_then_sanitised_colours_are_identical_and_replaced_within_bound(
    name: str,
) -> None:
    source = REAL_PROFILES[name]
    original = chart_lab(read_profile(source, frozenset(COLOUR_TAGS)))
    assert original is not None
    for mode in ("keep", "sanitise"):
        choice = choose_profile(source, mode)  # type: ignore[arg-type]
        assert choice.profile is not None
        written = chart_lab(read_profile(choice.profile))
        assert written is not None
        difference = float(ciede2000(original, written).max())
        if choice.state == "replaced":
            assert difference <= CANONICAL_DELTA_E
        else:
            # Identical colour tags: only the float noise of the chart's colour maths
            # (threaded BLAS sums in a varying order: 1e-13 seen) may differ.
            assert difference < 1e-9
            # LittleCMS, independently, renders the chart identically through both.
            assert np.array_equal(
                icc_cases.rendered_to_srgb(source), icc_cases.rendered_to_srgb(choice.profile)
            )


def test_given_real_profiles_then_srgb_and_display_p3_ones_are_replaced_and_others_not() -> None:
    states = {name: choose_profile(p, "sanitise").state for name, p in REAL_PROFILES.items()}
    assert states["exif_canon_gps_serial_artist.jpg"] == "replaced"  # HP's sRGB
    assert states["doc_handwritten_form_iphone.jpg"] == "replaced"  # Apple's Display P3
    assert states["screen_web_page.png"] == "sanitised"  # a calibrated monitor


def test_given_canonical_srgb_then_littlecms_renders_it_as_its_own_srgb() -> None:
    ours = icc_cases.rendered_to_srgb(_canonical("sRGB"))
    identity = np.asarray(icc_cases.chart_image(), dtype=np.int16)
    assert np.abs(ours - identity).max() <= 1


def test_given_chart_lab_then_it_agrees_with_littlecms_within_quantisation() -> None:
    from PIL import ImageCms

    profile = REAL_PROFILES["doc_handwritten_form_iphone.jpg"]
    lab_image = ImageCms.profileToProfile(
        icc_cases.chart_image(),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("LAB"),
        outputMode="LAB",
    )
    assert lab_image is not None
    raw = np.asarray(lab_image).reshape(-1, 3)
    a_b = raw[:, 1:].view(np.int8).astype(np.float64)  # Pillow stores a* and b* as int8
    littlecms = np.column_stack([raw[:, 0].astype(np.float64) * 100 / 255, a_b])
    ours = chart_lab(read_profile(profile, frozenset(COLOUR_TAGS)))
    assert ours is not None
    levels = np.linspace(0, 16, 9).round().astype(int)
    on_chart = ours.reshape(17, 17, 17, 3)[np.ix_(levels, levels, levels)].reshape(-1, 3)
    assert float(ciede2000(on_chart, littlecms).max()) < 1.0  # 8-bit Lab steps

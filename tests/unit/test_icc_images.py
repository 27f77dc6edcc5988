"""Colour profiles with personal data inside images: no planted string reaches any output.

Each profile of ``icc_cases`` goes into a JPEG, PNG (whose ``iCCP`` is compressed), WebP
and TIFF, through the pipeline (with no detectors: only decoding, encoding and the output
check run), in every mode. The report says what became of the profile, and the colours
the output profile gives are those of the upload's (see test_icc for the bound).
"""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from redactor.containers import assert_metadata_free, metadata_in
from redactor.containers.icc import written_profile_problems
from redactor.imaging import decode
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from tests.unit import icc_cases
from tests.unit import imaging_cases as cases

CASES = [
    (name, image_format)
    for name in sorted(icc_cases.PROFILES)
    for image_format in icc_cases.FORMATS
    # CMYK pixels: JPEG and TIFF only; Pillow refuses a PNG profile over 1 MiB (tested below).
    if (name != "cmyk" or image_format in ("jpeg", "tiff"))
    and (name != "private-2mb" or image_format != "png")
]


@pytest.fixture(scope="module")
def uploads() -> dict[tuple[str, str], bytes]:
    return {
        (name, image_format): icc_cases.image_with(icc_cases.PROFILES[name](), image_format)
        for name, image_format in CASES
    }


@pytest.mark.parametrize(("name", "image_format"), CASES)
@pytest.mark.parametrize("mode", ["sanitise", "keep", "drop"])
def test_given_profile_with_personal_data_then_no_planted_string_is_in_the_output(
    uploads: dict[tuple[str, str], bytes], name: str, image_format: str, mode: str
) -> None:
    upload = uploads[(name, image_format)]
    assert icc_cases.planted_in(upload), "the upload should carry the planted strings"

    result = Pipeline(PipelineOptions(icc=mode), []).run(upload)  # type: ignore[arg-type]

    assert result.output is not None, result.report.error
    assert icc_cases.planted_in(result.output) == []
    report = result.report
    expected = {"drop": "dropped", "sanitise": icc_cases.SANITISE_STATES[name]}.get(
        mode, "dropped" if name == "cmyk" else "sanitised"
    )
    assert report.icc_profile == expected
    assert ("icc" in report.metadata_removed) is (expected == "dropped")
    with Image.open(io.BytesIO(result.output)) as written:
        profile = written.info.get("icc_profile")
    assert (profile is None) is (expected == "dropped")
    if profile is not None:
        assert written_profile_problems(profile) == []
        assert_metadata_free(result.output, icc_profile=profile)
        assert metadata_in(result.output) == {"icc": 1}


@pytest.mark.parametrize("name", ["v2-srgb", "wide-gamut"])
def test_given_profile_then_output_pixels_are_the_same_whatever_the_mode(name: str) -> None:
    """The profile changes how colours are read, never the pixel values written."""
    upload = icc_cases.image_with(icc_cases.PROFILES[name](), "png")
    outputs = [
        Pipeline(PipelineOptions(icc=mode), []).run(upload).output  # type: ignore[arg-type]
        for mode in ("sanitise", "keep", "drop")
    ]
    frames = [decode(output or b"", PipelineOptions().limits).frames[0] for output in outputs]
    assert all(np.array_equal(frames[0], frame) for frame in frames)
    assert np.array_equal(frames[0], cases.gradient(24, 32))


def test_given_wide_gamut_profile_then_littlecms_renders_output_like_the_upload() -> None:
    source = icc_cases.wide_gamut_with_text()
    result = Pipeline(PipelineOptions(), []).run(icc_cases.image_with(source, "jpeg"))
    assert result.output is not None
    with Image.open(io.BytesIO(result.output)) as written:
        profile = written.info["icc_profile"]
    assert np.array_equal(icc_cases.rendered_to_srgb(profile), icc_cases.rendered_to_srgb(source))


def test_given_png_whose_profile_inflates_past_pillows_limit_then_refused_naming_it() -> None:
    upload = icc_cases.image_with(icc_cases.private_2mb(), "png")
    result = Pipeline(PipelineOptions(), []).run(upload)
    assert result.output is None
    assert result.report.error_code == "image_too_large"
    assert result.report.error is not None and "colour profile" in result.report.error


def test_given_png_whose_icc_name_is_personal_then_the_name_is_not_written() -> None:
    plain = cases.encoded(cases.gradient(24, 32), "PNG")
    name = icc_cases.NAME.encode()[:79]  # a PNG keyword holds at most 79 bytes
    chunk = cases.png_chunk(b"iCCP", name + b"\x00\x00" + zlib.compress(cases.SRGB_ICC))
    upload = plain[:33] + chunk + plain[33:]  # right after IHDR
    result = Pipeline(PipelineOptions(icc="keep"), []).run(upload)
    assert result.report.metadata_removed.get("icc_name") == 1
    assert result.output is not None and icc_cases.planted_in(result.output) == []

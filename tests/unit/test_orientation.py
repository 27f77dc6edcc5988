"""Invalid orientation values (0, 9, 65535, text) are treated as 1 and noted, never refused.

Browsers, Pillow and exiftool show an image whose Orientation tag holds anything but 1-8
as stored, with no rotation; redactor does the same, so the output looks as the upload
did, and says so in the report instead of failing the image.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from redactor.containers import inspect
from redactor.imaging import decode
from redactor.options import Limits, PipelineOptions
from redactor.pipeline import Pipeline
from tests.unit import imaging_cases as cases

LIMITS = Limits()
INVALID = [0, 9, 65535]


def _exif_with_text_orientation() -> bytes:
    """IFD0 whose Orientation entry is ASCII "six" instead of a SHORT."""
    entry = b"\x01\x12" + b"\x00\x02" + b"\x00\x00\x00\x04" + b"six\x00"
    return b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01" + entry + b"\x00\x00\x00\x00"


def _jpeg(exif: bytes) -> bytes:
    return cases.encoded(cases.marker_image(), "JPEG", quality=100, subsampling=0, exif=exif)


@pytest.mark.parametrize("value", INVALID)
def test_given_jpeg_with_invalid_orientation_then_decoded_as_stored_and_noted(value: int) -> None:
    data = _jpeg(cases.camera_exif(value))

    image = decode(data, LIMITS)

    assert image.orientation == 1
    with Image.open(io.BytesIO(data)) as stored:
        assert image.frames[0].shape[:2] == (stored.height, stored.width)
    assert image.notes == (f"the EXIF Orientation tag holds {value}, not 1-8: treated as 1",)


def test_given_orientation_that_is_not_a_number_then_treated_as_1_and_noted() -> None:
    facts = inspect(_jpeg(_exif_with_text_orientation()))
    assert facts.orientation == 1
    assert facts.notes == (
        "the EXIF Orientation tag holds a value that is not a number, not 1-8: treated as 1",
    )


@pytest.mark.parametrize("value", INVALID)
@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_given_lossless_file_with_invalid_orientation_then_pixels_are_exactly_as_stored(
    value: int, image_format: str
) -> None:
    stored = cases.marker_image()
    options = {"lossless": True} if image_format == "WEBP" else {}
    data = cases.encoded(stored, image_format, exif=cases.camera_exif(value), **options)

    image = decode(data, LIMITS)

    assert image.orientation == 1 and len(image.notes) == 1
    assert np.array_equal(image.frames[0], stored)


@pytest.mark.parametrize("value", INVALID)
def test_given_tiff_page_with_invalid_orientation_then_page_as_stored_and_noted(
    value: int,
) -> None:
    upright = cases.marker_image()
    pages = [cases.stored_for_orientation(upright, 6), upright]
    tagged = cases.animation(pages, "TIFF", tiffinfo={274: 6})
    data = cases.set_tiff_orientation_of_page(tagged, page=1, orientation=value)

    image = decode(data, LIMITS)

    assert image.orientation == 6
    assert all(np.array_equal(frame, upright) for frame in image.frames)
    assert image.notes == (f"the TIFF page's Orientation tag holds {value}, not 1-8: treated as 1",)


@pytest.mark.parametrize("value", INVALID)
def test_given_invalid_orientation_then_the_image_is_redacted_and_the_report_says_why(
    value: int,
) -> None:
    result = Pipeline(PipelineOptions(), []).run(_jpeg(cases.camera_exif(value)))

    assert result.ok, result.report.error
    report = result.report.to_dict()
    assert report["orientation_applied"] == 1
    assert report["notes"] == [f"the EXIF Orientation tag holds {value}, not 1-8: treated as 1"]
    assert "exif" in report["metadata_removed"]


def test_given_valid_orientation_then_no_note() -> None:
    assert decode(_jpeg(cases.camera_exif(6)), LIMITS).notes == ()
    assert decode(_jpeg(cases.camera_exif()), LIMITS).notes == ()

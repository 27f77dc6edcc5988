"""The whole pipeline on real images with real models."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image

from redactor.errors import DetectionError
from redactor.findings import Finding, RGBImage
from redactor.geometry import Box, intersection
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from tests.support import decode_rgb, face_boxes, load_image_bytes

pytestmark = pytest.mark.models

ASTRONAUT_FACE = Box(*face_boxes()["skimage:astronaut"][0])


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.build(PipelineOptions(text="off", codes=False))


def _transpose_for(orientation: int, image: Image.Image) -> Image.Image:
    """The stored pixels that a viewer shows as ``image`` when EXIF says ``orientation``."""
    inverse = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }
    for op in inverse.get(orientation, []):
        image = image.transpose(op)
    return image


def _astronaut_jpeg(orientation: int, width: int = 512) -> bytes:
    from skimage import data

    upright = Image.fromarray(data.astronaut())
    # Pad to a non-square canvas so a wrong rotation changes the output's shape.
    canvas = Image.new("RGB", (width + 256, 512), (200, 200, 200))
    canvas.paste(upright, (0, 0))
    stored = _transpose_for(orientation, canvas)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_orientations_come_out_upright_with_the_face_found(
    pipeline: Pipeline, orientation: int
) -> None:
    result = pipeline.run(_astronaut_jpeg(orientation))
    assert result.ok, result.report.error
    out = decode_rgb(result.output or b"")
    assert out.shape[:2] == (512, 768)
    assert result.report.orientation_applied == orientation
    faces = [f for f in result.report.findings if f.kind == "face"]
    assert faces and any(
        intersection(Box(*f.box), ASTRONAUT_FACE) > 0.6 * ASTRONAUT_FACE.area for f in faces
    )
    # The upright canvas is grey on the right: a wrong flip would put the photo there.
    assert np.abs(out[:, 600:].astype(int) - 200).mean() < 3


class _Exploding:
    name = "exploding"

    def detect(self, image: RGBImage, context: object = None) -> Sequence[Finding]:
        raise DetectionError("face detection failed: RuntimeError")


def test_a_detector_error_means_no_output_and_a_reason() -> None:
    result = Pipeline(PipelineOptions(), [_Exploding()]).run(load_image_bytes("skimage:astronaut"))
    assert not result.ok and result.output is None
    assert result.report.status == "failed"
    assert result.report.error_code == "detection_failed"
    assert "face detection failed" in (result.report.error or "")


class _Broken:
    name = "broken"

    def detect(self, image: RGBImage, context: object = None) -> Sequence[Finding]:
        raise MemoryError


def test_an_unexpected_error_also_fails_closed() -> None:
    result = Pipeline(PipelineOptions(), [_Broken()]).run(load_image_bytes("skimage:astronaut"))
    assert result.output is None
    assert result.report.error_code == "internal_error"


def test_report_names_kinds_and_groups_never_values(pipeline: Pipeline) -> None:
    data = load_image_bytes("exif_canon_gps_serial_artist.jpg")
    result = pipeline.run(data)
    assert result.ok
    report = result.report.to_dict()
    assert {"exif", "gps", "xmp", "iptc"} <= set(report["metadata_removed"])
    text = json.dumps(report)
    assert "Canon" not in text and "600D" not in text
    assert report["input"]["sha256"] != report["output"]["sha256"]
    assert set(report["timings_ms"]) >= {"decode", "faces", "encode", "total"}


def test_thumbnail_that_differs_from_the_image_is_gone(pipeline: Pipeline) -> None:
    data = load_image_bytes("exif_thumbnail_leak_olympus.jpg")
    result = pipeline.run(data)
    assert result.ok
    output = result.output or b""
    assert output.count(b"\xff\xd8") == 1  # one JPEG: no embedded thumbnail
    assert b"Exif" not in output


def test_heic_becomes_a_clean_jpeg(pipeline: Pipeline) -> None:
    result = pipeline.run(load_image_bytes("exif_iphone_gps.heic"))
    assert result.ok, result.report.error
    assert result.output_format == "jpeg"
    assert b"Exif" not in (result.output or b"")
    assert "heif_exif" in result.report.metadata_removed or "exif" in result.report.metadata_removed


class _Deadline(Exception):
    pass


class _SlowDetector:
    name = "slow"

    def detect(self, image: RGBImage, context: object = None) -> Sequence[Finding]:
        raise _Deadline


def test_exceptions_the_caller_owns_are_raised_through() -> None:
    pipeline = Pipeline(PipelineOptions(), [_SlowDetector()], propagate=(_Deadline,))
    with pytest.raises(_Deadline):
        pipeline.run(load_image_bytes("skimage:astronaut"))

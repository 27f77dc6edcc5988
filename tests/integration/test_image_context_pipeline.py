"""The pipeline's detectors share one context per image: the detail map is made once."""

from __future__ import annotations

import pytest

import redactor.image_context as image_context
from redactor.faces import FaceDetector, FaceSettings
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from redactor.text.detector import TextDetector
from tests.support import load_image_bytes, record_image_shapes
from tests.unit.test_text_detector import RECOGNIZERS
from tests.unit.test_two_scale_reading import FakeProposer


def test_faces_and_text_share_one_detail_map_per_image(monkeypatch: pytest.MonkeyPatch) -> None:
    built = record_image_shapes(monkeypatch, image_context, "DetailMap")
    faces = FaceDetector.build(("centerface", "mediapipe"), FaceSettings())
    text = TextDetector(FakeProposer(), "pii", recognizers=RECOGNIZERS, two_scale=True)
    pipeline = Pipeline(PipelineOptions(codes=False), [faces, text])
    data = load_image_bytes("skimage:astronaut")
    for _ in range(2):
        result = pipeline.run(data)
        assert result.ok, result.report.error
    assert built == [(512, 512, 3)] * 2  # once per image, not once per detector

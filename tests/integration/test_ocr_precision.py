"""RapidOCR with the wheel's text detector (the default) and with the quantised one, asked
for directly and as a job's ``ocr_precision`` through the builders."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

from redactor.options import PipelineOptions
from redactor.text.builders import build_reviewers, build_text_detectors
from redactor.text.detector import TextDetector
from redactor.text.engines import create_engine
from redactor.text.engines.rapid import RapidOcrEngine
from redactor.text.ocr import EngineSettings, Precision
from testkit.fonts import font
from testkit.text_scenes import Scene, card_scene, shipping_scene
from tests.integration.test_text_detection import coverage

pytestmark = pytest.mark.models

LINE = "Invoice 48213 Rotterdam"


def rendered_line() -> np.ndarray:
    canvas = Image.new("RGB", (900, 240), (236, 232, 224))
    ImageDraw.Draw(canvas).text(
        (60, 90), LINE, font=font("LiberationSans-Regular.ttf", 44), fill=(25, 25, 30)
    )
    return np.asarray(canvas)


@pytest.mark.parametrize("precision", ["int8", "fp32", "int8-proposal"])
def test_given_each_precision_then_a_rendered_line_is_read_exactly(precision: Precision) -> None:
    engine = create_engine("rapidocr", EngineSettings(threads=2, precision=precision))
    assert isinstance(engine, RapidOcrEngine) and engine.precision == precision
    assert engine.version.endswith("+det-int8") == (precision == "int8")
    assert engine.version.endswith("+propose-int8") == (precision == "int8-proposal")
    assert [line.text for line in engine.read(rendered_line())] == [LINE]
    proposed = engine.propose(rendered_line(), scale=0.5).probability
    assert proposed.shape == (120, 450) and proposed.max() > 0.5


# --- a job's choice, through the builders ---


@pytest.fixture(scope="module")
def int8_text() -> TextDetector:
    detectors = build_text_detectors(PipelineOptions(ocr_precision="int8", codes=False), threads=2)
    assert [type(d) for d in detectors] == [TextDetector]
    return detectors[0]  # type: ignore[return-value]


def test_given_int8_options_then_the_builders_share_one_quantised_engine_per_process(
    int8_text: TextDetector,
) -> None:
    engine = int8_text._engine
    assert isinstance(engine, RapidOcrEngine) and engine.precision == "int8"
    assert int8_text.model == engine.version and engine.version.endswith("+det-int8")
    again = build_text_detectors(PipelineOptions(ocr_precision="int8", codes=False), threads=2)
    reviewer = build_reviewers(PipelineOptions(ocr_precision="int8"), threads=2)
    assert again[0]._engine is engine  # type: ignore[attr-defined]
    assert reviewer[0]._reader.engine is engine  # type: ignore[attr-defined]
    fp32 = build_text_detectors(PipelineOptions(ocr_precision="fp32", codes=False), threads=2)[0]
    assert fp32._engine is not engine  # type: ignore[attr-defined]
    assert not fp32.model.endswith("+det-int8")  # type: ignore[attr-defined]


@pytest.mark.parametrize("make_scene", [shipping_scene, card_scene], ids=["shipping", "card"])
def test_given_int8_then_a_generated_scene_still_has_its_personal_lines_found(
    int8_text: TextDetector, make_scene: Callable[[], Scene]
) -> None:
    """The card scene's receipt holds a card number in small print (about 15 px high):
    the shipped int8 file covers it at the default options (1280 px canvas, two scales),
    though it missed it read at full size and one scale (docs/benchmarks.md)."""
    scene = make_scene()
    findings = int8_text.detect(scene.image)
    assert scene.personal
    for item in scene.personal:
        assert coverage(item.box, findings, scene.image.shape) >= 0.95, item.kind
    assert {f.model for f in findings} == {int8_text.model}

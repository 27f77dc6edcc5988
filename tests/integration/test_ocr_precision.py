"""RapidOCR with the wheel's text detector (the default) and with the quantised one."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from redactor.text.engines import create_engine
from redactor.text.engines.rapid import RapidOcrEngine
from redactor.text.ocr import EngineSettings, Precision
from testkit.fonts import font

pytestmark = pytest.mark.models

LINE = "Invoice 48213 Rotterdam"


def rendered_line() -> np.ndarray:
    canvas = Image.new("RGB", (900, 240), (236, 232, 224))
    ImageDraw.Draw(canvas).text(
        (60, 90), LINE, font=font("LiberationSans-Regular.ttf", 44), fill=(25, 25, 30)
    )
    return np.asarray(canvas)


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_given_each_precision_then_a_rendered_line_is_read_exactly(precision: Precision) -> None:
    engine = create_engine("rapidocr", EngineSettings(threads=2, precision=precision))
    assert isinstance(engine, RapidOcrEngine) and engine.precision == precision
    assert engine.version.endswith("+det-int8") == (precision == "int8")
    assert [line.text for line in engine.read(rendered_line())] == [LINE]

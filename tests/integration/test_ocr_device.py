"""REDACTOR_OCR_DEVICE on a machine without a GPU: EasyOCR falls back to the CPU, says
so in the log, and still reads text."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image, ImageDraw

from redactor.text.engines import create_engine
from redactor.text.ocr import EngineSettings
from testkit.fonts import font

pytestmark = [pytest.mark.models, pytest.mark.slow]


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation chatter
def test_given_cuda_asked_for_without_a_gpu_then_easyocr_runs_on_the_cpu_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="redactor.text.ocr")
    image = Image.new("RGB", (420, 90), "white")
    ImageDraw.Draw(image).text(
        (16, 16), "HELLO 2024", fill="black", font=font("DejaVuSans.ttf", 48)
    )

    engine = create_engine("easyocr", EngineSettings(threads=2, device="cuda"))
    lines = engine.read(np.asarray(image))

    assert getattr(engine, "device", None) == "cpu"
    fallback = [r for r in caplog.records if "no CUDA device" in r.getMessage()]
    assert [r.levelno for r in fallback] == [logging.WARNING]
    assert "HELLO" in " ".join(line.text for line in lines).upper()

"""REDACTOR_OCR_DEVICE on a machine without a GPU: each engine falls back to the CPU,
says so in the log, and still reads text.

There is no GPU here, so CUDA itself is never run; what is tested is every way of not
getting it: no CUDA runtime at all (both engines), and ONNX Runtime listing its CUDA
provider but starting the sessions on the CPU (an ``onnxruntime-gpu`` host without a
device or without its CUDA libraries), which is simulated by reporting the provider as
available to the real CPU build.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image, ImageDraw

from redactor.findings import RGBImage
from redactor.text.engines import create_engine, rapid
from redactor.text.ocr import EngineSettings
from testkit.fonts import font

pytestmark = [pytest.mark.models, pytest.mark.slow]


def _hello() -> RGBImage:
    image = Image.new("RGB", (420, 90), "white")
    ImageDraw.Draw(image).text(
        (16, 16), "HELLO 2024", fill="black", font=font("DejaVuSans.ttf", 48)
    )
    return np.asarray(image)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation chatter
@pytest.mark.parametrize("engine_name", ["rapidocr", "easyocr"])
def test_given_cuda_asked_for_without_a_gpu_then_the_engine_runs_on_the_cpu_with_a_warning(
    engine_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redactor.text.ocr")

    engine = create_engine(engine_name, EngineSettings(threads=2, device="cuda"))
    lines = engine.read(_hello())

    assert getattr(engine, "device", None) == "cpu"
    fallback = [r for r in caplog.records if "no CUDA device" in r.getMessage()]
    assert [r.levelno for r in fallback] == [logging.WARNING]
    assert engine_name in fallback[0].getMessage()
    assert "HELLO" in " ".join(line.text for line in lines).upper()


def test_given_the_cuda_provider_listed_but_sessions_on_the_cpu_then_rapidocr_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rapid, "cuda_available", lambda: True)
    caplog.set_level(logging.INFO, logger="redactor.text")

    engine = create_engine("rapidocr", EngineSettings(threads=1, device="auto"))
    lines = engine.read(_hello())

    assert getattr(engine, "device", None) == "cpu"
    messages = [r.getMessage() for r in caplog.records]
    assert "rapidocr runs on CUDA" in messages  # what the listing promised ...
    started = [r for r in caplog.records if "sessions started on" in r.getMessage()]
    assert [r.levelno for r in started] == [logging.WARNING]  # ... and what happened
    assert "CPUExecutionProvider" in started[0].getMessage()
    assert "HELLO" in " ".join(line.text for line in lines).upper()

"""Where OCR runs: CUDA when asked for (or ``auto``) and present, else the CPU, logged.

There is no GPU on the test machines: the CUDA side is a stub here, and the real
EasyOCR fallback is in tests/integration/test_ocr_device.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from redactor.text import ocr
from redactor.text.engines import rapid
from redactor.text.ocr import Device, EngineSettings, prefer_device, resolve_device


@pytest.fixture(autouse=True)
def _restore_preference() -> Iterator[None]:
    yield
    prefer_device("cpu")


@pytest.mark.parametrize(
    ("requested", "available", "expected", "level"),
    [
        ("cpu", True, "cpu", None),
        ("cpu", False, "cpu", None),
        ("auto", True, "cuda", logging.INFO),
        ("auto", False, "cpu", logging.INFO),
        ("cuda", True, "cuda", logging.INFO),
        ("cuda", False, "cpu", logging.WARNING),
    ],
)
def test_device_resolution_and_its_log_line(
    requested: Device,
    available: bool,
    expected: str,
    level: int | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    probes: list[bool] = []

    def cuda_available() -> bool:
        probes.append(available)
        return available

    caplog.set_level(logging.INFO, logger=ocr.__name__)
    assert resolve_device(requested, cuda_available, "easyocr") == expected
    assert [r.levelno for r in caplog.records] == ([] if level is None else [level])
    assert all("easyocr" in r.getMessage() for r in caplog.records)
    assert probes == ([] if requested == "cpu" else [available])  # cpu never probes CUDA


def test_given_a_process_preference_then_engine_settings_default_to_it() -> None:
    assert EngineSettings().device == "cpu"
    prefer_device("cuda")
    assert EngineSettings(threads=2).device == "cuda"
    assert EngineSettings(device="cpu").device == "cpu"


def test_given_cuda_then_rapidocr_asks_onnx_runtime_for_it_with_a_per_shape_cheap_search() -> None:
    on_gpu = rapid._params(1, "cuda")
    assert on_gpu["EngineConfig.onnxruntime.use_cuda"] is True
    # Every image gives the detector a new input shape: no exhaustive search per shape.
    assert on_gpu["EngineConfig.onnxruntime.cuda_ep_cfg.cudnn_conv_algo_search"] == "HEURISTIC"
    assert not any("cuda" in key for key in rapid._params(1, "cpu"))


def test_the_cpu_build_of_onnx_runtime_lists_no_cuda_provider() -> None:
    assert rapid.cuda_available() is False  # these machines: the premise of the fallback tests

"""Which text detector RapidOCR is given: the wheel's by default, the quantised one on asking."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

import models
from redactor.errors import ConfigError
from redactor.service.settings import ServiceSettings
from redactor.text.engines import rapid
from redactor.text.engines.rapid import RapidOcrEngine
from redactor.text.ocr import EngineSettings, prefer_precision


@pytest.fixture(autouse=True)
def _restore_preference() -> Iterator[None]:
    yield
    prefer_precision("fp32")


def test_given_no_setting_then_the_detector_is_the_wheels() -> None:
    assert EngineSettings().precision == "fp32"
    assert ServiceSettings().ocr_precision == "fp32"
    assert rapid._params(None)["Det.model_path"] == str(models.verified_path("ppocr-det"))


def test_given_int8_then_the_detector_is_the_quantised_one_and_recognition_never_changes() -> None:
    int8, fp32 = rapid._params(None, precision="int8"), rapid._params(None, precision="fp32")
    assert int8["Det.model_path"] == str(models.verified_path("ppocr-det-int8"))
    assert int8["Rec.model_path"] == fp32["Rec.model_path"]
    assert int8["Cls.model_path"] == fp32["Cls.model_path"]


def test_given_a_process_preference_then_engine_settings_default_to_it() -> None:
    prefer_precision("int8")
    assert EngineSettings(threads=2).precision == "int8"
    assert EngineSettings(precision="fp32").precision == "fp32"


def test_given_an_unknown_precision_then_the_service_settings_refuse_it() -> None:
    with pytest.raises(ValidationError, match="ocr_precision"):
        ServiceSettings(ocr_precision="int4")  # type: ignore[arg-type]


def test_given_an_unknown_precision_then_the_engine_refuses_it_before_loading() -> None:
    with pytest.raises(ConfigError, match="int8 or fp32"):
        RapidOcrEngine(precision="int4")  # type: ignore[arg-type]

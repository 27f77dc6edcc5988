"""Which queue a job goes to: text jobs to the OCR queue when one is set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from redactor.options import PipelineOptions
from redactor.service.settings import ServiceSettings

FACES_ONLY = PipelineOptions(text="off", codes=False)


def test_given_no_ocr_queue_then_every_job_goes_to_the_main_queue() -> None:
    settings = ServiceSettings()
    assert settings.queue_for(PipelineOptions()) == "redactor"
    assert settings.queue_for(FACES_ONLY) == "redactor"
    assert settings.redaction_queues() == ("redactor",)


@pytest.mark.parametrize(
    ("options", "queue"),
    [
        (PipelineOptions(), "redactor-ocr"),
        (PipelineOptions(text="all"), "redactor-ocr"),
        (PipelineOptions(text="pii", ocr_engine="easyocr"), "redactor-ocr"),
        (FACES_ONLY, "redactor"),
        (PipelineOptions(text="off", codes=True), "redactor"),
    ],
)
def test_given_an_ocr_queue_then_jobs_that_read_text_go_there(
    options: PipelineOptions, queue: str
) -> None:
    settings = ServiceSettings(ocr_queue="redactor-ocr")
    assert settings.queue_for(options) == queue
    assert settings.redaction_queues() == ("redactor", "redactor-ocr")


@pytest.mark.parametrize("name", ["redactor", "redactor-retention"])
def test_given_ocr_queue_equal_to_another_queue_then_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="REDACTOR_OCR_QUEUE"):
        ServiceSettings(ocr_queue=name)


def test_given_an_unknown_ocr_device_then_refused() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(ocr_device="tpu")  # type: ignore[arg-type]

"""Which text detector RapidOCR is given: the wheel's by default, the quantised one when a
job asks (``PipelineOptions.ocr_precision``), from the CLI, the benchmarks, the
environment, the HTTP form or a queued message."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ConfigDict, ValidationError, create_model

import models
from bench import eval as bench_eval
from bench import real_documents
from bench import speed as bench_speed
from redactor import task_message
from redactor.cli import ocr_precision as precision_option
from redactor.cli import redact as redact_cli
from redactor.errors import ConfigError
from redactor.options import PipelineOptions
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings
from redactor.task_message import InvalidTaskMessage, TaskMessage, parse_task_message
from redactor.text import builders
from redactor.text.engines import rapid
from redactor.text.engines.rapid import RapidOcrEngine
from redactor.text.ocr import EngineSettings

JOB_ID = "AAAAAAAAAAAAAAAAAAAAAA"


# --- the option and the engine ---


def test_given_no_choice_then_every_default_is_the_wheels_float_detector() -> None:
    assert PipelineOptions().ocr_precision == "fp32"
    assert EngineSettings().precision == "fp32"
    assert ServiceSettings().pipeline.ocr_precision == "fp32"
    assert precision_option.DEFAULT == "fp32" and precision_option.CHOICES == ("fp32", "int8")
    assert rapid._params(None)["Det.model_path"] == str(models.verified_path("ppocr-det"))


def test_given_int8_then_the_detector_is_the_quantised_one_and_recognition_never_changes() -> None:
    int8, fp32 = rapid._params(None, precision="int8"), rapid._params(None, precision="fp32")
    assert int8["Det.model_path"] == str(models.verified_path("ppocr-det-int8"))
    assert int8["Rec.model_path"] == fp32["Rec.model_path"]
    assert int8["Cls.model_path"] == fp32["Cls.model_path"]


def test_given_an_unknown_precision_then_the_options_refuse_it_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match="ocr_precision") as caught:
        PipelineOptions(ocr_precision="int4")  # type: ignore[arg-type]
    assert "'fp32' or 'int8'" in str(caught.value)


def test_given_int8_with_an_engine_without_a_quantised_model_then_refused() -> None:
    with pytest.raises(ValidationError, match="ocr_precision int8 needs ocr_engine rapidocr"):
        PipelineOptions(ocr_engine="easyocr", ocr_precision="int8")
    assert PipelineOptions(ocr_engine="easyocr").ocr_precision == "fp32"


def test_given_an_unknown_precision_then_the_engine_refuses_it_before_loading() -> None:
    with pytest.raises(ConfigError, match="fp32 or int8"):
        RapidOcrEngine(precision="int4")  # type: ignore[arg-type]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_given_a_precision_then_the_builder_asks_for_the_shared_engine_at_it(
    monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    asked: list[tuple[str, EngineSettings]] = []

    def shared_engine(name: str, settings: EngineSettings) -> object:
        asked.append((name, settings))
        return SimpleNamespace(name=name, version="stub")

    monkeypatch.setattr(builders, "shared_engine", shared_engine)
    options = PipelineOptions(ocr_precision=precision, codes=False)  # type: ignore[arg-type]
    builders.build_text_detectors(options, threads=2)
    builders.build_reviewers(options, threads=2)
    assert asked == 2 * [
        ("rapidocr", EngineSettings(threads=2, detection_side=1280, precision=precision))
    ]  # type: ignore[arg-type]


# --- the CLI and the benchmarks ---


def _redact_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *flags: str) -> Any:
    """Run ``redactor redact`` with ``flags`` and a runner that only records the options."""
    seen: list[PipelineOptions] = []

    class Recording:
        def __init__(self, options: PipelineOptions, *_: object) -> None:
            seen.append(options)

        def run(self, *_: object) -> list[object]:
            return []

    monkeypatch.setattr(redact_cli, "BatchRunner", Recording)
    image = tmp_path / "in" / "a.png"
    image.parent.mkdir()
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    args = [str(image.parent), "--out", str(tmp_path / "out"), "--quiet", *flags]
    result = CliRunner().invoke(redact_cli.redact, args)
    return result, seen


@pytest.mark.parametrize(
    ("flags", "expected"), [((), "fp32"), (("--ocr-precision", "int8"), "int8")]
)
def test_given_the_cli_flag_then_the_batch_runs_at_that_precision(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flags: tuple[str, ...], expected: str
) -> None:
    result, seen = _redact_options(monkeypatch, tmp_path, *flags)
    assert result.exit_code == 0, result.output
    assert [options.ocr_precision for options in seen] == [expected]


def test_given_an_unknown_cli_precision_then_exit_2_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, seen = _redact_options(monkeypatch, tmp_path, "--ocr-precision", "int4")
    assert result.exit_code == 2
    assert "'int4' is not one of 'fp32', 'int8'" in result.output
    assert seen == []


def test_given_int8_with_easyocr_on_the_cli_then_exit_2_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(redact_cli, "_require_engine", lambda name: None)
    flags = ("--ocr-precision", "int8", "--ocr-engine", "easyocr")
    result, seen = _redact_options(monkeypatch, tmp_path, *flags)
    assert result.exit_code == 2 and seen == []
    assert "ocr_precision int8 needs ocr_engine rapidocr" in result.output


def test_given_the_benchmarks_then_each_takes_the_one_flag_with_its_help() -> None:
    speed_help = CliRunner().invoke(bench_speed.main, ["--help"]).output
    assert "--ocr-precision [fp32|int8]" in speed_help and "small print" in speed_help
    for main in (bench_eval.main, real_documents.main):
        with pytest.raises(SystemExit) as caught:
            main(["--ocr-precision", "int4"])
        assert caught.value.code == 2
    parser = argparse.ArgumentParser()
    precision_option.add_argument(parser)
    assert parser.parse_args([]).ocr_precision == "fp32"
    assert parser.parse_args(["--ocr-precision", "int8"]).ocr_precision == "int8"
    assert "may miss small print" in parser.format_help().replace("\n", " ").replace("  ", " ")


def test_given_int8_then_every_eval_mode_runs_at_it_and_the_judge_does_not() -> None:
    for options in bench_eval.MODES.values():
        changed = bench_eval.with_precision(options, "int8")
        assert changed.ocr_precision == "int8"
        assert changed.model_dump(exclude={"ocr_precision"}) == options.model_dump(
            exclude={"ocr_precision"}
        )


# --- the environment ---


def test_given_the_shorthand_then_it_is_the_pipelines_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTOR_OCR_PRECISION", "int8")
    assert load_settings(ServiceSettings).pipeline.ocr_precision == "int8"
    monkeypatch.setenv("REDACTOR_PIPELINE__OCR_PRECISION", "int8")  # both, agreeing
    assert load_settings(ServiceSettings).pipeline.ocr_precision == "int8"
    monkeypatch.delenv("REDACTOR_OCR_PRECISION")
    assert load_settings(ServiceSettings).pipeline.ocr_precision == "int8"


def test_given_the_shorthand_and_the_long_form_disagreeing_then_one_line_names_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTOR_OCR_PRECISION", "int8")
    monkeypatch.setenv("REDACTOR_PIPELINE__OCR_PRECISION", "fp32")
    with pytest.raises(ConfigError) as caught:
        load_settings(ServiceSettings)
    assert str(caught.value) == (
        "invalid settings: REDACTOR_OCR_PRECISION=int8 and "
        "REDACTOR_PIPELINE__OCR_PRECISION=fp32 disagree; give only one of them"
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "REDACTOR_OCR_PRECISION",
            "int4",
            "REDACTOR_OCR_PRECISION: Input should be 'fp32' or 'int8'",
        ),
        (
            "REDACTOR_PIPELINE__OCR_PRECISION",
            "INT8",
            "REDACTOR_PIPELINE__OCR_PRECISION: Input should be 'fp32' or 'int8'",
        ),
    ],
)
def test_given_an_unknown_precision_in_the_environment_then_the_accepted_values_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(ServiceSettings)
    assert str(caught.value) == f"invalid settings: {expected}"


# --- queued messages ---


def test_given_an_int8_job_then_its_message_carries_the_precision_both_ways() -> None:
    sent = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions(ocr_precision="int8"))
    received = parse_task_message(sent.model_dump_json())
    assert received == sent
    assert received.options is not None and received.options.ocr_precision == "int8"
    default = parse_task_message(
        TaskMessage.for_job(JOB_ID, "acme", PipelineOptions()).model_dump_json()
    )
    assert default.options is not None and default.options.ocr_precision == "fp32"


def test_given_an_unknown_precision_in_a_message_then_it_is_refused_naming_the_choices() -> None:
    payload = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions()).model_dump_json()
    with pytest.raises(InvalidTaskMessage) as caught:
        parse_task_message(payload.replace('"ocr_precision":"fp32"', '"ocr_precision":"int4"'))
    assert str(caught.value) == (
        "invalid task message: options.ocr_precision: Input should be 'fp32' or 'int8'"
    )


def test_given_a_worker_older_than_the_option_then_it_refuses_the_message_not_ignores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker whose options lack ``ocr_precision`` (the one before this change): the
    field is unknown to it, so the job fails ``invalid_message`` naming it, rather than
    running an int8 job in float (or the reverse) without a word."""
    old_fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in PipelineOptions.model_fields.items()
        if name != "ocr_precision"
    }
    old_options = create_model(  # type: ignore[call-overload]
        "OldPipelineOptions", __config__=ConfigDict(frozen=True, extra="forbid"), **old_fields
    )
    old_message = create_model(
        "OldTaskMessage", __base__=TaskMessage, options=(old_options | None, None)
    )
    sent = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions(ocr_precision="int8"))
    monkeypatch.setattr(task_message, "TaskMessage", old_message)
    with pytest.raises(InvalidTaskMessage) as caught:
        parse_task_message(sent.model_dump_json())
    assert caught.value.code == "invalid_message"
    assert str(caught.value) == (
        "invalid task message: options.ocr_precision: Extra inputs are not permitted"
    )

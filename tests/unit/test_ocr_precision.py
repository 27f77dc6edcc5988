"""Which text detector RapidOCR is given: the wheel's by default, the quantised one when a
job asks (``PipelineOptions.ocr_precision``), from the CLI, the benchmarks, the
environment, the HTTP form or a queued message."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.typing import NDArray
from pydantic import ConfigDict, ValidationError, create_model

import models
from bench import eval as bench_eval
from bench import real_documents
from bench import speed as bench_speed
from redactor import task_message
from redactor.cli import ocr_precision as precision_option
from redactor.cli import redact as redact_cli
from redactor.errors import ConfigError, ModelIntegrityError
from redactor.findings import RGBImage
from redactor.options import PipelineOptions
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings
from redactor.task_message import InvalidTaskMessage, TaskMessage, parse_task_message
from redactor.text import builders
from redactor.text.engines import rapid
from redactor.text.engines.rapid import RapidOcrEngine
from redactor.text.ocr import EngineSettings, Precision

JOB_ID = "AAAAAAAAAAAAAAAAAAAAAA"


# --- the option and the engine ---


def test_given_no_choice_then_jobs_quantise_the_proposal_pass_only() -> None:
    assert PipelineOptions().ocr_precision == "int8-proposal"
    assert ServiceSettings().pipeline.ocr_precision == "int8-proposal"
    assert precision_option.DEFAULT == "int8-proposal"
    # An engine built without settings (the eval's own reader) stays the wheel's float one.
    assert EngineSettings().precision == "fp32"
    assert precision_option.CHOICES == ("fp32", "int8", "int8-proposal")
    assert rapid._params(None)["Det.model_path"] == str(models.verified_path("ppocr-det"))


def test_given_int8_then_the_detector_is_the_quantised_one_and_recognition_never_changes() -> None:
    int8 = rapid._params(None, detector=rapid.DETECTORS["int8"].full)
    fp32 = rapid._params(None, detector=rapid.DETECTORS["fp32"].full)
    assert int8["Det.model_path"] == str(models.verified_path("ppocr-det-int8"))
    assert int8["Rec.model_path"] == fp32["Rec.model_path"]
    assert int8["Cls.model_path"] == fp32["Cls.model_path"]


@pytest.mark.parametrize(
    ("precision", "proposal", "full"),
    [
        ("fp32", "ppocr-det", "ppocr-det"),
        ("int8", "ppocr-det-int8", "ppocr-det-int8"),
        ("int8-proposal", "ppocr-det-int8", "ppocr-det"),
    ],
)
def test_given_a_precision_then_each_detection_pass_has_its_weights(
    precision: Precision, proposal: str, full: str
) -> None:
    weights = rapid.DETECTORS[precision]
    assert (weights.proposal, weights.full) == (proposal, full)


def test_given_an_unknown_precision_then_the_options_refuse_it_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match="ocr_precision") as caught:
        PipelineOptions(ocr_precision="int4")  # type: ignore[arg-type]
    assert "'fp32', 'int8' or 'int8-proposal'" in str(caught.value)


def test_given_int8_with_an_engine_without_a_quantised_model_then_refused() -> None:
    with pytest.raises(ValidationError, match="ocr_precision int8 needs ocr_engine rapidocr"):
        PipelineOptions(ocr_engine="easyocr", ocr_precision="int8")


@pytest.mark.parametrize("precision", ["int8-proposal", "fp32"])
def test_given_an_engine_without_a_proposal_pass_then_int8_proposal_is_accepted(
    precision: Precision,
) -> None:
    """EasyOCR has no proposal pass to quantise: the default is accepted with it (so
    ``--ocr-engine easyocr`` alone works) and changes nothing there."""
    assert PipelineOptions(ocr_engine="easyocr", ocr_precision=precision).ocr_engine == "easyocr"
    assert PipelineOptions(ocr_engine="easyocr").ocr_precision == "int8-proposal"


def test_given_an_unknown_precision_then_the_engine_refuses_it_before_loading() -> None:
    with pytest.raises(ConfigError, match="choose one of: fp32, int8, int8-proposal"):
        RapidOcrEngine(precision="int4")  # type: ignore[arg-type]


# --- which network each pass runs (RapidOCR replaced by a recording stand-in) ---


class _Detector:
    """RapidOCR's text detector, reduced to what the adapter calls; records its calls."""

    def __init__(self, path: str, calls: list[str]) -> None:
        self.path, self.calls = path, calls
        self.limit_type, self.limit_side_len = "min", 736

    def get_preprocess(self) -> Any:
        return SimpleNamespace(
            normalize=lambda image: image.astype(np.float32),
            permute=lambda image: image.transpose(2, 0, 1),
        )

    def session(self, tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        self.calls.append(f"propose {self.path}")
        return np.zeros((1, 1, *tensor.shape[2:]), np.float32)


@pytest.fixture
def rapidocr_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``rapidocr.RapidOCR`` replaced: each instance's detector is its ``Det.model_path``;
    the list records loads, proposal-pass calls and full readings by that path."""
    import rapidocr

    calls: list[str] = []

    class RapidOCR:
        def __init__(self, params: dict[str, Any]) -> None:
            self.path = params["Det.model_path"]
            self.text_det: _Detector | None = None

        def _load_det_model(self) -> _Detector:
            if self.text_det is None:
                calls.append(f"load {self.path}")
                self.text_det = _Detector(self.path, calls)
            return self.text_det

        def __call__(self, image: RGBImage) -> Any:
            self._load_det_model()
            calls.append(f"read {self.path}")
            return SimpleNamespace()

    monkeypatch.setattr(rapidocr, "RapidOCR", RapidOCR)
    return calls


@pytest.mark.parametrize(
    ("precision", "proposal", "full"),
    [
        ("fp32", "ppocr-det", "ppocr-det"),
        ("int8", "ppocr-det-int8", "ppocr-det-int8"),
        ("int8-proposal", "ppocr-det-int8", "ppocr-det"),
    ],
)
def test_given_a_precision_then_the_proposal_pass_and_full_detection_run_their_weights(
    rapidocr_calls: list[str], precision: Precision, proposal: str, full: str
) -> None:
    first, whole = (str(models.verified_path(name)) for name in (proposal, full))
    engine = RapidOcrEngine(precision=precision)
    # Weights of its own for the first pass are loaded with the engine, not on first use.
    assert rapidocr_calls == ([f"load {first}"] if first != whole else [])
    image = np.full((480, 640, 3), 255, np.uint8)
    engine.propose(image, scale=0.5)
    engine.read(image)
    runs = [call for call in rapidocr_calls if not call.startswith("load")]
    assert runs == [f"propose {first}", f"read {whole}"]
    assert engine.version.endswith(rapid.DETECTORS[precision].version_suffix)


def test_given_int8_proposal_and_its_weights_missing_then_the_engine_is_not_built(
    rapidocr_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: never a two-scale engine without its first pass (nor one silently
    running another network there)."""
    verified = models.verified_path

    def missing_int8(name: str) -> Path:
        if name == "ppocr-det-int8":
            raise ModelIntegrityError(f"model file missing: {name}")
        return verified(name)

    monkeypatch.setattr(models, "verified_path", missing_int8)
    with pytest.raises(ModelIntegrityError, match="ppocr-det-int8"):
        RapidOcrEngine(precision="int8-proposal")
    assert rapidocr_calls == []


@pytest.mark.parametrize("precision", ["fp32", "int8", "int8-proposal"])
def test_given_a_precision_then_the_builder_asks_for_the_shared_engine_at_it(
    monkeypatch: pytest.MonkeyPatch, precision: Precision
) -> None:
    asked: list[tuple[str, EngineSettings]] = []

    def shared_engine(name: str, settings: EngineSettings) -> object:
        asked.append((name, settings))
        return SimpleNamespace(name=name, version="stub")

    monkeypatch.setattr(builders, "shared_engine", shared_engine)
    options = PipelineOptions(ocr_precision=precision, codes=False)
    builders.build_text_detectors(options, threads=2)
    builders.build_reviewers(options, threads=2)
    assert asked == 2 * [
        ("rapidocr", EngineSettings(threads=2, detection_side=1280, precision=precision))
    ]


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
    ("flags", "expected"),
    [
        ((), "int8-proposal"),
        (("--ocr-precision", "fp32"), "fp32"),
        (("--ocr-precision", "int8"), "int8"),
        (("--ocr-precision", "int8-proposal"), "int8-proposal"),
    ],
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
    assert "'int4' is not one of 'fp32', 'int8', 'int8-proposal'" in result.output
    assert seen == []


def test_given_int8_with_easyocr_on_the_cli_then_exit_2_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(redact_cli, "_require_engine", lambda name: None)
    flags = ("--ocr-precision", "int8", "--ocr-engine", "easyocr")
    result, seen = _redact_options(monkeypatch, tmp_path, *flags)
    assert result.exit_code == 2 and seen == []
    assert "ocr_precision int8 needs ocr_engine rapidocr" in result.output


def test_given_easyocr_alone_on_the_cli_then_the_default_precision_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(redact_cli, "_require_engine", lambda name: None)
    result, seen = _redact_options(monkeypatch, tmp_path, "--ocr-engine", "easyocr")
    assert result.exit_code == 0, result.output
    assert [(o.ocr_engine, o.ocr_precision) for o in seen] == [("easyocr", "int8-proposal")]


def test_given_the_benchmarks_then_each_takes_the_one_flag_with_its_help() -> None:
    speed_help = CliRunner().invoke(bench_speed.main, ["--help"]).output
    assert "--ocr-precision [fp32|int8|int8-proposal]" in speed_help
    assert "small print" in speed_help
    for main in (bench_eval.main, real_documents.main):
        with pytest.raises(SystemExit) as caught:
            main(["--ocr-precision", "int4"])
        assert caught.value.code == 2
    parser = argparse.ArgumentParser()
    precision_option.add_argument(parser)
    assert parser.parse_args([]).ocr_precision == "int8-proposal"
    assert parser.parse_args(["--ocr-precision", "int8"]).ocr_precision == "int8"
    assert parser.parse_args(["--ocr-precision", "int8-proposal"]).ocr_precision == "int8-proposal"
    assert "may miss small print" in parser.format_help().replace("\n", " ").replace("  ", " ")


@pytest.mark.parametrize("precision", ["int8", "int8-proposal"])
def test_given_int8_then_every_eval_mode_runs_at_it_and_the_judge_does_not(
    precision: Precision,
) -> None:
    for options in bench_eval.MODES.values():
        changed = bench_eval.with_precision(options, precision)
        assert changed.ocr_precision == precision
        assert changed.model_dump(exclude={"ocr_precision"}) == options.model_dump(
            exclude={"ocr_precision"}
        )


# --- the environment ---


@pytest.mark.parametrize("precision", ["int8", "int8-proposal"])
def test_given_the_shorthand_then_it_is_the_pipelines_default(
    monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    monkeypatch.setenv("REDACTOR_OCR_PRECISION", precision)
    assert load_settings(ServiceSettings).pipeline.ocr_precision == precision
    monkeypatch.setenv("REDACTOR_PIPELINE__OCR_PRECISION", precision)  # both, agreeing
    assert load_settings(ServiceSettings).pipeline.ocr_precision == precision
    monkeypatch.delenv("REDACTOR_OCR_PRECISION")
    assert load_settings(ServiceSettings).pipeline.ocr_precision == precision


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
            "REDACTOR_OCR_PRECISION: Input should be 'fp32', 'int8' or 'int8-proposal'",
        ),
        (
            "REDACTOR_PIPELINE__OCR_PRECISION",
            "INT8",
            "REDACTOR_PIPELINE__OCR_PRECISION: Input should be 'fp32', 'int8' or 'int8-proposal'",
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


@pytest.mark.parametrize("precision", ["int8", "int8-proposal"])
def test_given_an_int8_job_then_its_message_carries_the_precision_both_ways(
    precision: Precision,
) -> None:
    sent = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions(ocr_precision=precision))
    received = parse_task_message(sent.model_dump_json())
    assert received == sent
    assert received.options is not None and received.options.ocr_precision == precision
    default = parse_task_message(
        TaskMessage.for_job(JOB_ID, "acme", PipelineOptions()).model_dump_json()
    )
    assert default.options is not None and default.options.ocr_precision == "int8-proposal"


def test_given_an_unknown_precision_in_a_message_then_it_is_refused_naming_the_choices() -> None:
    payload = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions()).model_dump_json()
    with pytest.raises(InvalidTaskMessage) as caught:
        parse_task_message(
            payload.replace('"ocr_precision":"int8-proposal"', '"ocr_precision":"int4"')
        )
    assert str(caught.value) == (
        "invalid task message: options.ocr_precision: Input should be 'fp32', 'int8' or "
        "'int8-proposal'"
    )


def _refused_by_an_old_worker(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], precision: Precision
) -> str:
    """The error a worker whose options have ``fields`` gives a job sent at ``precision``
    by this version."""
    old_options = create_model(
        "OldPipelineOptions", __config__=ConfigDict(frozen=True, extra="forbid"), **fields
    )
    old_message = create_model(
        "OldTaskMessage", __base__=TaskMessage, options=(old_options | None, None)
    )
    sent = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions(ocr_precision=precision))
    monkeypatch.setattr(task_message, "TaskMessage", old_message)
    with pytest.raises(InvalidTaskMessage) as caught:
        parse_task_message(sent.model_dump_json())
    assert caught.value.code == "invalid_message"
    return str(caught.value)


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
    assert _refused_by_an_old_worker(monkeypatch, old_fields, "int8") == (
        "invalid task message: options.ocr_precision: Extra inputs are not permitted"
    )


def test_given_a_worker_that_knows_only_fp32_and_int8_then_it_refuses_int8_proposal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While workers are upgraded, an ``int8-proposal`` job reaching a worker from before
    the value fails ``invalid_message`` rather than running at another precision."""
    old_fields: dict[str, Any] = {
        name: (Literal["fp32", "int8"], info)
        if name == "ocr_precision"
        else (info.annotation, info)
        for name, info in PipelineOptions.model_fields.items()
    }
    assert _refused_by_an_old_worker(monkeypatch, old_fields, "int8-proposal") == (
        "invalid task message: options.ocr_precision: Input should be 'fp32' or 'int8'"
    )

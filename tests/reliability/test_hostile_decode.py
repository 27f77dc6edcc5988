"""The whole hostile corpus through decode-and-sanitise, in this process (seconds).

The doors (tests/reliability/test_hostile_doors.py) get a sample; here every case runs:
the crafted ones, every base image truncated every 7 bytes (every byte with
``REDACTOR_LONG_RELIABILITY=1``) and with a bit flipped in each of its first 64 bytes.
The path is :func:`bench.fuzz.sanitise`, the same contract the fuzzer enforces: a clean
refusal (:class:`~redactor.errors.RedactorError`) or a metadata-free image; any other
exception, a metadata leak or an ``internal_error`` fails the test.

A truncated file may only decode if nothing was lost: its pixels must equal the whole
file's (a partial decode published as the image is the failure this guards against).
The inputs the fuzzer ever found crashing are replayed from ``regressions/``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench.fuzz import REGRESSIONS, ContractBroken, sanitise
from redactor import imaging
from redactor.errors import RedactorError
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from testkit import hostile as hostile_corpus
from testkit.hostile import CORPUS_LIMITS, Case
from tests.reliability.conftest import LONG, record_figures

pytestmark = [pytest.mark.reliability]

PIPELINE = Pipeline(
    PipelineOptions(faces=False, text="off", codes=False, limits=CORPUS_LIMITS),
    [],
    propagate=(Exception,),
)


def _outcome(case: Case) -> str:
    return sanitise(case.data, PIPELINE)


@pytest.mark.parametrize("case", hostile_corpus.crafted(), ids=lambda case: case.name)
def test_given_crafted_hostile_input_then_it_has_its_expected_outcome(case: Case) -> None:
    outcome = _outcome(case)
    assert case.accepts(None if outcome == "redacted" else outcome), outcome
    if outcome == "redacted":
        result = PIPELINE.run(case.data)
        assert result.output is not None
        for marker in case.forbidden:
            assert marker not in result.output
        if "+" in case.name and not case.name.startswith("polyglot/tiff"):  # TIFF has no end
            assert result.report.metadata_removed.get("trailing_data") == 1


def _whole(fmt: str) -> imaging.DecodedImage:
    return imaging.decode(hostile_corpus.bases()[fmt], CORPUS_LIMITS)


def test_given_every_truncation_then_each_is_refused_or_decodes_to_the_whole_image() -> None:
    outcomes: Counter[str] = Counter()
    whole = {fmt: _whole(fmt) for fmt in hostile_corpus.bases()}
    for case in hostile_corpus.truncated(step=1 if LONG else 7):
        try:
            decoded = imaging.decode(case.data, CORPUS_LIMITS)
        except RedactorError as exc:
            assert exc.code in hostile_corpus.ANY_DECODE_ERROR and str(exc), case.name
            outcomes[exc.code] += 1
            continue
        reference = whole[case.name.split("/")[1]]
        assert len(decoded.frames) == len(reference.frames), case.name
        assert all(
            np.array_equal(a, b) for a, b in zip(decoded.frames, reference.frames, strict=True)
        ), f"{case.name}: a partial image decoded as if whole"
        outcomes["decoded whole"] += 1
    record_figures("truncations", dict(outcomes))


def test_given_header_bit_flips_then_each_is_refused_or_sanitised_cleanly() -> None:
    outcomes: Counter[str] = Counter()
    for case in hostile_corpus.bit_flipped():
        try:
            outcomes[_outcome(case)] += 1
        except ContractBroken as exc:
            pytest.fail(f"{case.name}: {exc}")
    assert set(outcomes) <= {"redacted", *hostile_corpus.ANY_DECODE_ERROR}, outcomes
    record_figures("bit_flips", dict(outcomes))


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.suffix != ".md")


@pytest.mark.parametrize("path", _regressions(), ids=lambda path: path.name)
def test_given_input_the_fuzzer_once_crashed_on_then_it_is_refused_or_sanitised(path: Path) -> None:
    sanitise(path.read_bytes())

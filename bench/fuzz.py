"""Coverage-guided fuzzing of the decode-and-sanitise path with atheris (libFuzzer).

    python -m bench.fuzz --seconds 600 [--corpus bench-out/fuzz-corpus] [--jobs 1]

The target (:func:`sanitise`) is the pipeline with no detectors: sniff, inspect the
container, decode under limits, copy the frames, build the detection views, encode from
the pixels and check the output for metadata. The contract it enforces is the one every
door relies on: an input either comes out as a metadata-free image or is refused with a
:class:`~redactor.errors.RedactorError`. Anything else (another exception, a metadata
leak, a hang past ``-timeout``, memory past ``-rss_limit_mb``) is a crash: libFuzzer
writes the input to ``tests/reliability/regressions/crash-<sha1>`` (or ``timeout-``,
``oom-``), where ``tests/reliability/test_regressions.py`` replays every file on each
test run. Fix the bug, keep the file.

Seeds are the hostile corpus's base images and its small crafted cases
(``testkit/hostile.py``); the working corpus grows in ``--corpus``
(under ``bench-out/``, not committed). Limits are lower than the defaults (1 MP a frame,
50 frames) so that each run is milliseconds and a legitimately large decode is never
mistaken for a leak by ``-rss_limit_mb``. Python code of Pillow, pillow-heif and
redactor is instrumented for coverage; the C decoders are exercised but not guided.

Not part of ``make test`` (it runs for as long as it is told); the regressions it finds
are. atheris needs CPython 3.11 here and a Linux wheel (``pip install atheris``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from redactor.containers import MetadataLeak
from redactor.errors import RedactorError
from redactor.options import Limits, PipelineOptions
from redactor.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "tests" / "reliability" / "regressions"
DEFAULT_CORPUS = ROOT / "bench-out" / "fuzz-corpus"
#: Small limits: fast executions, and no legitimate decode near ``-rss_limit_mb``.
FUZZ_LIMITS = Limits(
    max_pixels=1_000_000, max_total_pixels=4_000_000, max_frames=50, max_file_bytes=1 << 20
)
#: Seeds above this size are left out: libFuzzer works best on small inputs.
MAX_SEED_BYTES = 64 * 1024


class ContractBroken(AssertionError):
    """The sanitising path did something other than refuse cleanly or output a clean image."""


def _pipeline() -> Pipeline:
    """No detectors; every exception but our own propagates instead of becoming a report."""
    options = PipelineOptions(faces=False, text="off", codes=False, limits=FUZZ_LIMITS)
    return Pipeline(options, [], propagate=(Exception,))


_PIPELINE = _pipeline()


def sanitise(data: bytes, pipeline: Pipeline = _PIPELINE) -> str:
    """Run ``data`` through decode-and-sanitise; the outcome code, or raise if the contract breaks.

    Returns ``"redacted"`` or the error code of a clean refusal.
    """
    result = pipeline.run(data)
    if result.ok:
        return "redacted"
    code = result.report.error_code or ""
    if code in {MetadataLeak.code, "internal_error"} or not result.report.error:
        raise ContractBroken(f"{code}: {result.report.error}")
    return code


def _one_input(data: bytes) -> None:
    try:
        sanitise(data)
    except RedactorError as exc:  # pragma: no cover - sanitise turns these into codes
        raise ContractBroken(f"escaped: {exc.code}") from exc


def _seed(corpus: Path) -> int:
    """Write the base images and small crafted cases into ``corpus``; how many."""
    from testkit import hostile as hostile_corpus

    corpus.mkdir(parents=True, exist_ok=True)
    cases = [*hostile_corpus.bases().items()]
    cases += [(case.name, case.data) for case in hostile_corpus.door_sample()]
    written = 0
    for name, data in cases:
        if 0 < len(data) <= MAX_SEED_BYTES:
            (corpus / ("seed-" + name.replace("/", "_"))).write_bytes(data)
            written += 1
    return written


def _libfuzzer_args(args: argparse.Namespace) -> list[str]:
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    return [
        sys.argv[0],
        str(args.corpus),
        f"-max_total_time={args.seconds}",
        f"-artifact_prefix={REGRESSIONS}/",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-max_len={MAX_SEED_BYTES}",
        "-print_final_stats=1",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fuzz the decode-and-sanitise path.")
    parser.add_argument("--seconds", type=int, required=True, help="how long to fuzz")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="working corpus")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    parser.add_argument("--rss-limit-mb", type=int, default=3072, help="memory one run may use")
    args = parser.parse_args(argv)

    import atheris

    seeds = _seed(args.corpus)
    print(f"fuzzing for {args.seconds} s from {seeds} seeds; crashes go to {REGRESSIONS}/")
    _load_lazy_modules(args.corpus)
    atheris.instrument_all()  # every Python function loaded now: Pillow's plugins, redactor
    atheris.Setup(_libfuzzer_args(args), _one_input)
    atheris.Fuzz()


def _load_lazy_modules(corpus: Path) -> None:
    """Import what loads on first use (Pillow's plugins, pillow-heif) so it is instrumented."""
    from PIL import Image

    Image.init()
    for seed in sorted(corpus.glob("seed-*")):
        sanitise(seed.read_bytes())


if __name__ == "__main__":
    main()

"""``redactor redact``: batch redaction of files and folders."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import click
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from redactor.batch import (
    BatchItem,
    BatchRunner,
    ItemResult,
    check_output_folder,
    discover,
    write_atomically,
)
from redactor.cli import ocr_precision as precision_option
from redactor.errors import ConfigError
from redactor.faces.registry import DEFAULT_FAMILIES, FAMILIES
from redactor.options import DEFAULT_STYLES, IccMode, Limits, PipelineOptions, TextPolicy
from redactor.styles import STYLE_FAMILIES, STYLES
from redactor.text.engines import ENGINES
from redactor.text.engines.installed import require_engine

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
MIB = 1024 * 1024

# Defaults, bounds and choices are PipelineOptions' own: declared once, in redactor/options.py.


def _default(name: str, model: type[BaseModel] = PipelineOptions) -> Any:
    return model.model_fields[name].get_default(call_default_factory=True)


def _bounds(name: str, model: type[BaseModel] = PipelineOptions) -> tuple[Any, Any]:
    low = high = None
    for rule in model.model_fields[name].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
        if getattr(rule, "gt", None) is not None:
            low = rule.gt + 1  # every bounded field with gt is an integer
    return low, high


def _int_range(name: str, model: type[BaseModel] = PipelineOptions) -> click.IntRange:
    return click.IntRange(*_bounds(name, model))


def _float_range(name: str) -> click.FloatRange:
    return click.FloatRange(*_bounds(name))


def _parse_styles(values: tuple[str, ...]) -> dict[str, str]:
    """``[KIND=]STYLE`` pairs; the kinds and styles are checked by PipelineOptions."""
    styles: dict[str, str] = {}
    for value in values:
        kind, _, style = value.rpartition("=")
        styles.update(dict.fromkeys([kind] if kind else STYLE_FAMILIES, style))
    return styles


def _validation_message(error: ValidationError) -> str:
    """Each problem by field and rule, never echoing the value given."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'options'}: "
        f"{item['msg'].removeprefix('Value error, ')}"
        for item in error.errors(include_input=False, include_url=False, include_context=False)
    )


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the redacted copies (created if missing). Inputs are never overwritten.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Where to write the JSON report. Default: OUT/redactor-report.json.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Files redacted in parallel; each worker process loads the models once.",
)
@click.option(
    "--style",
    "styles",
    multiple=True,
    metavar="[KIND=]STYLE",
    help=f"Redaction style for a kind ({', '.join(STYLE_FAMILIES)} or a precise kind such as "
    f"pii.email), or for all kinds if no KIND. Styles: {', '.join(STYLES)}. Default: "
    f"{', '.join(f'{kind}={style}' for kind, style in DEFAULT_STYLES.items())}. Repeatable.",
)
@click.option("--no-faces", is_flag=True, help="Do not look for faces.")
@click.option(
    "--text",
    "text_policy",
    type=click.Choice(get_args(TextPolicy)),
    default=_default("text"),
    show_default=True,
    help="pii: redact personal text only; all: every text region except --allow terms; "
    "off: no OCR.",
)
@click.option(
    "--ocr-engine",
    type=click.Choice(list(ENGINES)),
    default=next(iter(ENGINES)),
    show_default=True,
    help="OCR engine for --text pii/all.",
)
@click.option(
    "--allow",
    "allow_terms",
    multiple=True,
    metavar="TERM",
    help="Text never redacted, e.g. your brand names. Repeatable.",
)
@click.option(
    "--deny",
    "deny_terms",
    multiple=True,
    metavar="TERM",
    help="Text always redacted wherever it is read. Repeatable.",
)
@click.option("--no-codes", is_flag=True, help="Do not look for barcodes and QR codes.")
@click.option(
    "--face-threshold",
    type=_float_range("face_threshold"),
    default=_default("face_threshold"),
    show_default=True,
    help="Minimum MediaPipe face score (CenterFace's is 0.25); lower finds more faces "
    "(and more false ones).",
)
@click.option(
    "--min-face",
    "min_face_px",
    type=_int_range("min_face_px"),
    default=_default("min_face_px"),
    show_default=True,
    metavar="PX",
    help="Smallest face width MediaPipe's tile pyramid is built for (beside CenterFace "
    "it starts at 48 px anyway). Larger is faster.",
)
@click.option(
    "--ocr-detection-side",
    type=_int_range("ocr_detection_side"),
    default=_default("ocr_detection_side"),
    show_default=True,
    metavar="PX",
    help="Find text on the image shrunk to this longest side (smaller is faster; very "
    "small print may be missed); words are always read at full resolution. RapidOCR only.",
)
@click.option(
    "--ocr-full-size",
    is_flag=True,
    help="Find text at the image's own size (up to 2400 px): slowest, for fine print.",
)
@click.option(
    "--ocr-one-scale",
    is_flag=True,
    help="Run text detection over every region with detail, without the first pass on a "
    "640 px canvas that finds where text is (slower). RapidOCR only.",
)
@precision_option.click_option()
@click.option(
    "--face-scale",
    type=_float_range("face_mask_scale"),
    default=_default("face_mask_scale"),
    show_default=True,
    help="The redacted ellipse is the head box grown by this factor.",
)
@click.option(
    "--face-detectors",
    default=",".join(DEFAULT_FAMILIES),
    show_default=True,
    metavar="NAMES",
    help=f"Face-detector families to run and merge, comma-separated, of: "
    f"{', '.join(sorted(FAMILIES))}.",
)
@click.option(
    "--icc",
    "icc_mode",
    type=click.Choice(get_args(IccMode)),
    default=_default("icc"),
    show_default=True,
    help="The colour profile: sanitise (its colour tags only, with neutral text; sRGB and "
    "Display P3 become redactor's own copies), keep (its own colour tags, never a copy; "
    "text is still never kept) or drop.",
)
@click.option("--drop-icc", is_flag=True, hidden=True, help="Same as --icc drop (older name).")
@click.option(
    "--jpeg-quality",
    type=_int_range("jpeg_quality"),
    default=_default("jpeg_quality"),
    show_default=True,
    help="Quality of JPEG outputs.",
)
@click.option(
    "--max-pixels",
    type=_int_range("max_pixels", Limits),
    default=_default("max_pixels", Limits),
    show_default=True,
    help="Refuse images with more decoded pixels per frame (decompression bombs).",
)
@click.option(
    "--max-file-mb",
    type=click.IntRange(1),
    default=_default("max_file_bytes", Limits) // MIB,
    show_default=True,
    help="Refuse files larger than this many MiB.",
)
@click.option(
    "--allow-nested-output",
    is_flag=True,
    help="Allow OUT inside an input folder (files already in OUT are then skipped).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary; errors only.")
def redact(
    inputs: tuple[Path, ...],
    out: Path,
    report_path: Path | None,
    jobs: int,
    styles: tuple[str, ...],
    no_faces: bool,
    text_policy: str,
    ocr_engine: str,
    allow_terms: tuple[str, ...],
    deny_terms: tuple[str, ...],
    no_codes: bool,
    face_threshold: float,
    min_face_px: int,
    ocr_detection_side: int,
    ocr_full_size: bool,
    ocr_one_scale: bool,
    ocr_precision: str,
    face_scale: float,
    icc_mode: str,
    face_detectors: str,
    drop_icc: bool,
    jpeg_quality: int,
    max_pixels: int,
    max_file_mb: int,
    allow_nested_output: bool,
    quiet: bool,
) -> None:
    """Redact faces, personal text and codes in INPUTS (files or folders, recursive)
    and strip all metadata, writing copies under OUT with the same relative paths.

    The format of each file is read from its bytes, not its name. A file that cannot
    be redacted with certainty (unsupported, corrupt, too large, a detector error) gets
    no output at all; the report says why and the batch goes on.

    Exit status: 0 all files redacted, 1 some files failed, 2 usage error.
    """
    if text_policy != "off":
        _require_engine(ocr_engine)
    try:
        options = PipelineOptions(
            faces=not no_faces,
            face_threshold=face_threshold,
            min_face_px=min_face_px,
            face_mask_scale=face_scale,
            face_detectors=tuple(n.strip() for n in face_detectors.split(",") if n.strip()),
            ocr_detection_side=None if ocr_full_size else ocr_detection_side,
            ocr_two_scale=not ocr_one_scale,
            ocr_precision=precision_option.precision(ocr_precision),
            text=text_policy,  # type: ignore[arg-type]
            ocr_engine=ocr_engine,
            codes=not no_codes,
            allow_terms=allow_terms,
            deny_terms=deny_terms,
            styles=_parse_styles(styles),
            icc="drop" if drop_icc else icc_mode,  # type: ignore[arg-type]
            jpeg_quality=jpeg_quality,
            limits={"max_pixels": max_pixels, "max_file_bytes": max_file_mb * MIB},  # type: ignore[arg-type]
        )
        check_output_folder(out, inputs, allow_nested_output)
        items = discover(inputs)
    except ValidationError as exc:
        raise click.UsageError(_validation_message(exc)) from None
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    out_resolved = out.resolve()
    items = [i for i in items if out_resolved not in i.source.resolve().parents]
    if not items:
        raise click.UsageError("no files found in the inputs")
    report_path = report_path or out / "redactor-report.json"
    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    results = _run_with_progress(BatchRunner(options, out, jobs), items, console, quiet)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.output is None]
    try:
        _write_report(report_path, results, options, elapsed)
    except OSError as exc:
        # The outputs are written; only the report is missing, and no partial one is left.
        _summary(console, results, failed, elapsed, None)
        Console(stderr=True).print(
            f"[red]error:[/] could not write the report {report_path}: "
            f"{exc.strerror or type(exc).__name__}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_SOME_FAILED)
    _summary(console, results, failed, elapsed, report_path)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


class _NotInstalled(click.ClickException):
    """A missing optional engine: one line naming its extra, no usage text around it."""

    exit_code = EXIT_USAGE


def _require_engine(name: str) -> None:
    try:
        require_engine(name)
    except ConfigError as exc:
        raise _NotInstalled(str(exc)) from None


def _run_with_progress(
    runner: BatchRunner, items: list[BatchItem], console: Console, quiet: bool
) -> list[ItemResult]:
    error_console = Console(stderr=True)

    def report_failure(result: ItemResult) -> None:
        if result.output is None:
            error_console.print(
                f"[red]failed[/] {result.item.relative}: "
                f"{result.report.error_code}: {result.report.error}",
                highlight=False,
            )

    show_bar = not quiet and console.is_terminal
    if not show_bar:
        return runner.run(items, report_failure)
    columns = (TextColumn("redacting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("redact", total=len(items))

        def on_done(result: ItemResult) -> None:
            report_failure(result)
            progress.advance(task)

        return runner.run(items, on_done)


def _write_report(
    path: Path, results: list[ItemResult], options: PipelineOptions, elapsed: float
) -> None:
    kinds = Counter(f.kind for r in results for f in r.report.findings)
    document = {
        "summary": {
            "files": len(results),
            "redacted": sum(r.output is not None for r in results),
            "failed": sum(r.output is None for r in results),
            "findings": dict(kinds),
            "seconds": round(elapsed, 3),
        },
        "options": options.model_dump(mode="json"),
        # Paths here are the operator's own files on the operator's own disk; the queue
        # and HTTP front doors never record client file names.
        "files": [
            {
                "path": str(r.item.relative),
                "output_path": os.path.relpath(r.output, path.parent) if r.output else None,
                **r.report.to_dict(),
            }
            for r in results
        ],
    }
    write_atomically(path, (json.dumps(document, indent=2) + "\n").encode())


def _summary(
    console: Console,
    results: list[ItemResult],
    failed: list[ItemResult],
    elapsed: float,
    report: Path | None,
) -> None:
    kinds = Counter(f.kind for r in results for f in r.report.findings)
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing to redact"
    console.print(
        f"{len(results) - len(failed)} of {len(results)} files redacted in {elapsed:.1f} s "
        f"({found}); {len(failed)} failed." + (f" Report: {report}" if report else ""),
        highlight=False,
    )

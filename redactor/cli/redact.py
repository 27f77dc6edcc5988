"""``redactor redact``: batch redaction of files and folders."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import click
from pydantic import ValidationError
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
from redactor.errors import ConfigError
from redactor.faces.registry import DEFAULT_FAMILIES, FAMILIES
from redactor.options import PipelineOptions
from redactor.styles import STYLES
from redactor.text.engines import ENGINES
from redactor.text.engines.installed import require_engine

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def _parse_styles(values: tuple[str, ...]) -> dict[str, str]:
    styles: dict[str, str] = {}
    for value in values:
        kind, _, style = value.rpartition("=")
        kinds = [kind] if kind else ["face", "text", "code"]
        if style not in STYLES:
            raise click.BadParameter(
                f"unknown style {style!r}; choose one of {', '.join(sorted(STYLES))}",
                param_hint="--style",
            )
        styles.update(dict.fromkeys(kinds, style))
    return styles


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
    help="Redaction style for a kind (face, text, code or a precise kind such as "
    "pii.email), or for all kinds if no KIND. Styles: blur, pixelate, fill. "
    "Default: face=blur, text=fill, code=fill. Repeatable.",
)
@click.option("--no-faces", is_flag=True, help="Do not look for faces.")
@click.option(
    "--text",
    "text_policy",
    type=click.Choice(["pii", "all", "off"]),
    default="pii",
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
    type=click.FloatRange(0.05, 0.99),
    default=0.35,
    show_default=True,
    help="Minimum MediaPipe face score (CenterFace's is 0.25); lower finds more faces "
    "(and more false ones).",
)
@click.option(
    "--min-face",
    "min_face_px",
    type=click.IntRange(12, 200),
    default=20,
    show_default=True,
    metavar="PX",
    help="Smallest face width MediaPipe's tile pyramid is built for (beside CenterFace "
    "it starts at 48 px anyway). Larger is faster.",
)
@click.option(
    "--ocr-detection-side",
    type=click.IntRange(320, 4000),
    default=1280,
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
    "--face-scale",
    type=click.FloatRange(1.0, 3.0),
    default=1.2,
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
    "--drop-icc", is_flag=True, help="Also drop the ICC colour profile (kept by default)."
)
@click.option(
    "--jpeg-quality",
    type=click.IntRange(90, 100),
    default=92,
    show_default=True,
    help="Quality of JPEG outputs.",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(1),
    default=50_000_000,
    show_default=True,
    help="Refuse images with more decoded pixels per frame (decompression bombs).",
)
@click.option(
    "--max-file-mb",
    type=click.IntRange(1),
    default=64,
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
    face_scale: float,
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
            text=text_policy,  # type: ignore[arg-type]
            ocr_engine=ocr_engine,
            codes=not no_codes,
            allow_terms=allow_terms,
            deny_terms=deny_terms,
            styles=_parse_styles(styles),
            keep_icc=not drop_icc,
            jpeg_quality=jpeg_quality,
            limits={"max_pixels": max_pixels, "max_file_bytes": max_file_mb * 1024 * 1024},  # type: ignore[arg-type]
        )
        check_output_folder(out, inputs, allow_nested_output)
        items = discover(inputs)
    except (ConfigError, ValidationError) as exc:
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

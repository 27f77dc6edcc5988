"""Redacting a batch of files from disk: discovery, output paths, parallel workers.

Used by the CLI; knows nothing about terminals. Each worker process builds one
:class:`Pipeline` (models load once per process) and redacts files one at a time.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redactor.errors import ConfigError, RedactorError
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline, RedactionResult
from redactor.report import Report

EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "tiff": ".tif", "gif": ".gif"}


@dataclass(frozen=True, slots=True)
class BatchItem:
    source: Path
    #: Path relative to the output folder, without the extension the output will get.
    relative: Path


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: BatchItem
    report: Report
    output: Path | None


def discover(inputs: Sequence[Path]) -> list[BatchItem]:
    """Every regular file named or found below the inputs (hidden files and folders skipped).

    Files are not filtered by extension: the format is sniffed from the bytes, so a
    file that is not an image becomes a clear per-file error rather than a silent skip.
    """
    items: list[BatchItem] = []
    prefix_folders = len(inputs) > 1
    for path in inputs:
        if path.is_dir():
            base = Path(path.resolve().name) if prefix_folders else Path()
            items.extend(BatchItem(f, base / f.relative_to(path)) for f in _walk(path))
        elif path.is_file():
            items.append(BatchItem(path, Path(path.name)))
        else:
            raise ConfigError(f"input not found or not a regular file or folder: {path}")
    return sorted(items, key=lambda i: str(i.relative))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def check_output_folder(out: Path, inputs: Sequence[Path], allow_nested: bool) -> None:
    """Refuse an output folder equal to or inside an input folder unless allowed."""
    resolved = out.resolve()
    for path in inputs:
        if path.is_dir() and not allow_nested:
            root = path.resolve()
            if resolved == root or root in resolved.parents:
                raise ConfigError(
                    f"output folder {out} is inside input folder {path}; choose another "
                    "folder or pass --allow-nested-output (its files are then skipped as inputs)"
                )


def output_path(out: Path, item: BatchItem, fmt: str, taken: set[Path]) -> Path:
    """Output path with the extension of the output format; never a path already used."""
    ext = EXTENSIONS.get(fmt, "." + fmt)
    rel = item.relative
    candidate = out / rel.with_suffix(ext) if rel.suffix.lower() != ext else out / rel
    if rel.suffix.lower() in {".jpeg", ".jpe"} and ext == ".jpg":
        candidate = out / rel
    if candidate in taken:
        candidate = out / rel.with_name(rel.name + ext)
    return candidate


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename: readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".redactor-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_worker_pipeline: Pipeline | Report | None = None


def _build(options: PipelineOptions) -> Pipeline | Report:
    """The pipeline, or the failed report every file gets when it cannot be built."""
    try:
        return Pipeline.build(options)
    except RedactorError as exc:
        return Report(status="failed", error_code=exc.code, error=str(exc))


def _init_worker(options_json: str) -> None:
    global _worker_pipeline
    from redactor.threads import limit_threads

    limit_threads(1)
    _worker_pipeline = _build(PipelineOptions.model_validate_json(options_json))


def _redact_in_worker(source: str) -> tuple[Report, bytes | None, str | None]:
    assert _worker_pipeline is not None, "worker initialiser did not run"
    return _run_file(_worker_pipeline, Path(source))


def _run_file(pipeline: Pipeline | Report, source: Path) -> tuple[Report, bytes | None, str | None]:
    if isinstance(pipeline, Report):
        return replace(pipeline), None, None
    try:
        data = _read_limited(source, pipeline.options.limits.max_file_bytes)
    except OSError as exc:
        report = Report(
            status="failed", error_code="unreadable", error=f"cannot read file: {exc.strerror}"
        )
        return report, None, None
    result: RedactionResult = pipeline.run(data)
    return result.report, result.output, result.output_format


def _read_limited(path: Path, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes, so a huge file is refused without reading it all."""
    with path.open("rb") as f:
        return f.read(limit + 1)


class BatchRunner:
    """Runs items through pipelines, in this process (jobs=1) or a pool of processes."""

    def __init__(self, options: PipelineOptions, out: Path, jobs: int = 1) -> None:
        self.options = options
        self.out = out
        self.jobs = max(1, jobs)
        self._taken: set[Path] = set()

    def run(
        self, items: Sequence[BatchItem], on_done: Callable[[ItemResult], None]
    ) -> list[ItemResult]:
        inputs = {item.source.resolve() for item in items}
        results = []
        for item, (report, data, fmt) in self._results(items):
            results.append(self._store(item, report, data, fmt, inputs))
            on_done(results[-1])
        return results

    def _results(
        self, items: Sequence[BatchItem]
    ) -> Iterator[tuple[BatchItem, tuple[Report, bytes | None, str | None]]]:
        if self.jobs == 1:
            pipeline = _build(self.options)
            for item in items:
                yield item, _run_file(pipeline, item.source)
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.options.model_dump_json(),),
        ) as pool:
            futures: list[tuple[BatchItem, Future[Any]]] = [
                (item, pool.submit(_redact_in_worker, str(item.source))) for item in items
            ]
            for item, future in futures:
                try:
                    yield item, future.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker fails its files, not the batch
                    report = Report(
                        status="failed",
                        error_code="worker_crashed",
                        error=f"worker process failed: {type(exc).__name__}",
                    )
                    yield item, (report, None, None)

    def _store(
        self,
        item: BatchItem,
        report: Report,
        data: bytes | None,
        fmt: str | None,
        inputs: set[Path],
    ) -> ItemResult:
        if data is None or fmt is None:
            return ItemResult(item, report, None)
        target = output_path(self.out, item, fmt, self._taken)
        if target.resolve() in inputs:
            report.status, report.error_code = "failed", "would_overwrite_input"
            report.error = "output path is one of the inputs; nothing written"
            return ItemResult(item, report, None)
        try:
            write_atomically(target, data)
        except OSError as exc:
            report.status, report.error_code = "failed", "write_failed"
            report.error = f"cannot write output: {exc.strerror}"
            return ItemResult(item, report, None)
        self._taken.add(target)
        return ItemResult(item, report, target)

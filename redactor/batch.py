"""Redacting a batch of files from disk: discovery, output paths, parallel workers.

Used by the CLI; knows nothing about terminals. Each worker process builds one
:class:`Pipeline` (models load once per process) and redacts files one at a time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from redactor.errors import ConfigError, RedactorError
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline, RedactionResult
from redactor.report import Report

#: What a worker process returns for one file: its report, output bytes and format.
FileResult = tuple[Report, bytes | None, str | None]
#: The function a worker process runs on one file's path (injectable for tests).
FileWork = Callable[[str], FileResult]

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
    from redactor.allocator import keep_large_buffers
    from redactor.threads import limit_threads

    limit_threads(1)
    keep_large_buffers()
    _worker_pipeline = _build(PipelineOptions.model_validate_json(options_json))


def _redact_in_worker(source: str) -> FileResult:
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


_DIED = (
    "the worker process died while redacting this file, twice (out of memory, or a crash "
    "in a decoder)"
)


def _crashed(message: str) -> FileResult:
    return Report(status="failed", error_code="worker_crashed", error=message), None, None


def _read_limited(path: Path, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes, so a huge file is refused without reading it all."""
    with path.open("rb") as f:
        return f.read(limit + 1)


class _Worker:
    """A spawned process that redacts the files it is sent, one at a time, on its own pipe."""

    def __init__(self, options_json: str, work: FileWork) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, options_json, work), daemon=True)
        self.process.start()
        child.close()  # so a dead process's pipe reads as closed
        #: The item it is redacting now, by position in the batch.
        self.index: int | None = None

    def send(self, index: int, items: Sequence[BatchItem]) -> None:
        self.index = index
        with contextlib.suppress(OSError):  # already dead: seen so on its handles
            self.connection.send(str(items[index].source))

    def handles(self) -> list[Any]:
        return [self.connection, self.process.sentinel]

    def ready(self) -> bool:
        return bool(wait(self.handles(), timeout=0))

    def collect(self) -> tuple[int, FileResult | None]:
        """Its item and result; ``None`` if it died before sending a whole result."""
        assert self.index is not None
        index, self.index = self.index, None
        try:
            if self.connection.poll():
                return index, self.connection.recv()
        except (EOFError, OSError):
            pass
        return index, None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _serve(connection: Connection, options_json: str, work: FileWork) -> None:
    """A worker process's loop: build the pipeline once, then redact each path sent."""
    _init_worker(options_json)
    while (source := connection.recv()) is not None:
        connection.send(work(source))


class BatchRunner:
    """Runs items through pipelines, in this process (jobs=1) or in worker processes.

    Each worker process redacts one file at a time over a pipe of its own. A process
    that dies (the OOM killer, a crash in a native decoder) takes only its own file with
    it: the file gets a second try in a fresh process, and fails as ``worker_crashed``
    only if it kills that one too; the rest of the batch goes on. (With one shared result
    queue, as in ``concurrent.futures``, one death fails every file in flight, and a
    process killed while sending its result hangs the whole pool for ever.)
    """

    def __init__(
        self,
        options: PipelineOptions,
        out: Path,
        jobs: int = 1,
        *,
        work: FileWork | None = None,
    ) -> None:
        self.options = options
        self.out = out
        self.jobs = max(1, jobs)
        self.work = work or _redact_in_worker
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

    def _results(self, items: Sequence[BatchItem]) -> Iterator[tuple[BatchItem, FileResult]]:
        if self.jobs == 1:
            from redactor.allocator import keep_large_buffers

            keep_large_buffers()
            pipeline = _build(self.options)
            for item in items:
                yield item, _run_file(pipeline, item.source)
            return
        workers = [self._worker() for _ in range(min(self.jobs, len(items)))]
        try:
            yield from self._in_order(items, workers)
        finally:
            for worker in workers:
                worker.stop()

    def _worker(self) -> _Worker:
        return _Worker(self.options.model_dump_json(), self.work)

    def _in_order(
        self, items: Sequence[BatchItem], workers: list[_Worker]
    ) -> Iterator[tuple[BatchItem, FileResult]]:
        """Feed idle workers, collect what they finish, and yield it in input order."""
        waiting = deque(range(len(items)))
        finished: dict[int, FileResult] = {}
        tries: Counter[int] = Counter()
        shown = 0
        while shown < len(items):
            for worker in workers:
                if worker.index is None and waiting:
                    worker.send(waiting.popleft(), items)
            busy = [worker for worker in workers if worker.index is not None]
            wait([handle for worker in busy for handle in worker.handles()])
            for number, worker in enumerate(workers):
                if worker.index is None or not worker.ready():
                    continue
                index, result = worker.collect()
                if result is None:  # the process died: replace it, try its file once more
                    worker.stop()
                    workers[number] = self._worker()
                    tries[index] += 1
                    if tries[index] < 2:
                        waiting.appendleft(index)
                        continue
                    result = _crashed(_DIED)
                finished[index] = result
            while shown in finished:
                yield items[shown], finished.pop(shown)
                shown += 1

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

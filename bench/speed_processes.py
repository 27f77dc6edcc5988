"""Throughput phases run in spawned processes (one native thread each), and their
summaries: images/s over the slowest process's wall time and mean stage times."""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from bench.stage_probes import StageProbe

#: Options of each measured pipeline: the two of the targets and the speed levers of
#: docs/benchmarks.md (``floor`` is decode + encode, no pipeline).
PIPELINE_OPTIONS: dict[str, dict[str, Any]] = {
    "faces": {"text": "off", "codes": False},
    "full": {},
    "faces_min32": {"text": "off", "codes": False, "min_face_px": 32},
    "full_det_full_size": {"ocr_detection_side": None},
    "full_det960": {"ocr_detection_side": 960},
    # Text detection without the two-scale first pass (the default before issue 18).
    "full_one_scale": {"ocr_two_scale": False},
}

Runner = Callable[[bytes], dict[str, float]]


def _floor_runner() -> Runner:
    """Decode and encode as the pipeline does, with nothing detected or redacted."""
    from redactor import imaging
    from redactor.containers import assert_metadata_free
    from redactor.options import PipelineOptions

    options = PipelineOptions()

    def run(data: bytes) -> dict[str, float]:
        started = time.perf_counter()
        image = imaging.decode(data, options.limits)
        decoded = time.perf_counter()
        frames = [frame.copy() for frame in image.frames]
        encoded = imaging.encode(frames, image, icc=options.icc, jpeg_quality=options.jpeg_quality)
        assert_metadata_free(encoded.data, icc_profile=encoded.icc_profile)
        done = time.perf_counter()
        return {
            "decode": (decoded - started) * 1000,
            "encode": (done - decoded) * 1000,
            "total": (done - started) * 1000,
        }

    return run


def _pipeline_runner(
    name: str, probe: StageProbe, ocr_precision: str = "fp32"
) -> tuple[Runner, float]:
    """The pipeline ``name`` built (and how long that took), its text detector at
    ``ocr_precision``, wrapped by ``probe``."""
    from redactor.options import PipelineOptions
    from redactor.pipeline import Pipeline

    options = PipelineOptions.model_validate(
        {**PIPELINE_OPTIONS[name], "ocr_precision": ocr_precision}
    )
    started = time.perf_counter()
    pipeline = Pipeline.build(options)
    build_s = time.perf_counter() - started
    probe.attach(pipeline)

    def run(data: bytes) -> dict[str, float]:
        result = pipeline.run(data)
        if not result.ok:
            raise RuntimeError(f"the {name} pipeline failed: {result.report.error_code}")
        return probe.take(result.report.timings_ms)

    return run, build_s


@dataclass(frozen=True)
class Job:
    """What one spawned process does: every (pipeline, size) phase, ``runs`` times."""

    index: int
    processes: int
    phases: tuple[tuple[str, str, tuple[str, ...]], ...]
    runs: int
    warm_up: bool
    spawned_at: float
    #: Native threads of the process (``limit_threads``).
    threads: int = 1
    #: ``PipelineOptions.ocr_precision`` of every pipeline measured.
    ocr_precision: str = "fp32"


@dataclass
class Phase:
    pipeline: str
    size: str
    first_image_ms: float
    #: Wall seconds per run.
    walls: list[float] = field(default_factory=list)
    #: Stage timings per run, per image.
    stages: list[list[dict[str, float]]] = field(default_factory=list)


@dataclass
class ProcessReport:
    #: Seconds from spawn to the full pipeline built (imports and model checks included).
    startup_s: float
    #: ``Pipeline.build()`` seconds, per pipeline.
    build_s: dict[str, float]
    peak_rss_mb: float
    phases: list[Phase]


def _build_runners(
    names: Sequence[str], ocr_precision: str = "fp32"
) -> tuple[dict[str, Runner], dict[str, float], float]:
    """The full pipeline first (a worker's default), then the others ``names`` holds;
    also the build seconds of each and the wall-clock time the full one was ready."""
    probe = StageProbe()
    probe.attach_modules()
    runners: dict[str, Runner] = {"floor": _floor_runner()}
    build_s: dict[str, float] = {}
    runners["full"], build_s["full"] = _pipeline_runner("full", probe, ocr_precision)
    full_ready_at = time.time()
    for name in dict.fromkeys(names):
        if name not in runners:
            runners[name], build_s[name] = _pipeline_runner(name, probe, ocr_precision)
    return runners, build_s, full_ready_at


def _rotated(items: Sequence[str], job: Job) -> list[str]:
    start = job.index * len(items) // job.processes
    return [*items[start:], *items[:start]]


def _run_phase(job: Job, runner: Runner, phase: Phase, paths: Sequence[str], barrier: Any) -> None:
    images = [Path(p).read_bytes() for p in _rotated(paths, job)]
    if job.warm_up:
        started = time.perf_counter()
        runner(images[0])
        phase.first_image_ms = (time.perf_counter() - started) * 1000
    for _ in range(job.runs):
        barrier.wait()
        started = time.perf_counter()
        phase.stages.append([runner(image) for image in images])
        phase.walls.append(time.perf_counter() - started)


def _process(job: Job, barrier: Any) -> ProcessReport:
    from redactor.allocator import keep_large_buffers
    from redactor.threads import limit_threads

    limit_threads(job.threads)
    keep_large_buffers()  # as the CLI's and the queue's processes do
    runners, build_s, full_ready_at = _build_runners(
        [p for p, _, _ in job.phases], job.ocr_precision
    )
    startup_s = full_ready_at - job.spawned_at
    phases = []
    for pipeline, size, paths in job.phases:
        phase = Phase(pipeline, size, first_image_ms=0.0)
        _run_phase(job, runners[pipeline], phase, paths, barrier)
        phases.append(phase)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return ProcessReport(startup_s, build_s, peak, phases)


def _process_main(job: Job, barrier: Any, results: Any) -> None:
    """Entry point of a spawned process: its report, or its error, goes to ``results``."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        results.put((job.index, _process(job, barrier), None))
    except Exception as exc:
        barrier.abort()
        results.put((job.index, None, f"{type(exc).__name__}: {exc}"))


def run_processes(
    processes: int,
    phases: tuple[tuple[str, str, tuple[str, ...]], ...],
    runs: int,
    warm_up: bool,
    timeout: float = 3600,
    threads: int = 1,
    ocr_precision: str = "fp32",
) -> list[ProcessReport]:
    """Spawn ``processes`` processes doing ``phases`` in step; their reports in order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    children = [
        context.Process(
            target=_process_main,
            args=(
                Job(i, processes, phases, runs, warm_up, time.time(), threads, ocr_precision),
                barrier,
                results,
            ),
        )
        for i in range(processes)
    ]
    try:
        for child in children:
            child.start()
        reports: list[ProcessReport | None] = [None] * processes
        deadline = time.monotonic() + timeout
        for _ in children:
            index, report, error = _next_result(results, children, deadline)
            if error is not None:
                raise RuntimeError(f"benchmark process {index} failed: {error}")
            reports[index] = report
        return [r for r in reports if r is not None]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()


def _next_result(results: Any, children: Sequence[Any], deadline: float) -> Any:
    """The next report, or an error once every child has exited without one (a crash)."""
    while time.monotonic() < deadline:
        try:
            return results.get(timeout=5)
        except Empty:
            if not any(child.is_alive() for child in children):
                codes = [child.exitcode for child in children]
                raise RuntimeError(
                    f"benchmark processes exited without a report: {codes}"
                ) from None
    raise TimeoutError("benchmark processes did not finish in time")


def throughput(reports: Sequence[ProcessReport], phase: int) -> list[float]:
    """Images/s per run: images all processes did over the slowest one's wall time."""
    runs = len(reports[0].phases[phase].walls)
    per_run = []
    for run in range(runs):
        images = sum(len(r.phases[phase].stages[run]) for r in reports)
        per_run.append(images / max(r.phases[phase].walls[run] for r in reports))
    return per_run


def stage_means(report: ProcessReport, phase: int) -> dict[str, float]:
    """Mean ms per image of each stage in each run, then the median over runs."""
    runs = report.phases[phase].stages
    names = sorted({name for run in runs for image in run for name in image})
    return {
        name: statistics.median(
            statistics.mean(image.get(name, 0.0) for image in run) for run in runs
        )
        for name in names
    }


@dataclass
class ThroughputRow:
    pipeline: str
    size: str
    #: images/s per run, by process count.
    per_run: dict[int, list[float]] = field(default_factory=dict)
    #: Median ms per image of each stage, one process.
    stages: dict[str, float] = field(default_factory=dict)
    first_image_ms: float = 0.0

    def median(self, processes: int) -> float:
        return statistics.median(self.per_run[processes])


def summarise(
    by_count: dict[int, list[ProcessReport]],
    phases: Sequence[tuple[str, str, tuple[str, ...]]],
) -> list[ThroughputRow]:
    rows = []
    for index, (pipeline, size, _) in enumerate(phases):
        row = ThroughputRow(pipeline, size)
        for count, reports in by_count.items():
            row.per_run[count] = throughput(reports, index)
        single = by_count[1][0]
        row.stages = stage_means(single, index)
        row.first_image_ms = single.phases[index].first_image_ms
        rows.append(row)
    return rows

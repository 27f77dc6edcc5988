"""How fast the pipeline is on this machine, and where the time goes.

    python -m bench.speed [--quick] [--out bench-out/speed.json]

Images: the scenes of ``bench/images.py`` (12 at 1600x1200, 4 at 4000x3000 and 4 on a
plain studio backdrop at 1600x1200, JPEG; ``--quick``: one of each). Everything is
measured in one run, so every ratio compares figures taken under the same conditions
(the machine may be shared: its load average is recorded before and after).

* **Throughput** (images/s) of the faces-only pipeline (``text="off", codes=False``),
  the full one (faces, personal text, codes) and the floor (``imaging.decode`` +
  ``imaging.encode`` + the metadata check, nothing detected), at both sizes: in one
  process, and across the two cores (two processes started with multiprocessing's
  spawn). Each process limits its native threads to 1 (``limit_threads(1)``, as the CLI
  and the queue workers do), builds each pipeline once, warms each up on one image, and
  then, once per run, redacts every image (the two starting at different ones). A run's
  throughput is the images both processes did over the slower one's wall time; the
  figure is the median of the runs. Two speed levers are measured beside the defaults,
  at 1600x1200: faces-only with the pyramid built for 32 px faces (``faces_min32``) and
  the full pipeline with text detection at the image's own size (``full_det_full_size``,
  also at 4000x3000: the default detects on a 1280 px canvas) and on a 960 px one
  (``full_det960``); what they cost in recall is ``python -m bench.eval --modes ...``'s
  to say. Threads: the
  1600x1200 phases again in one process of two threads, against two of one.
* **Stages** (ms per image, one process): the reports' ``timings_ms``, with ``text`` split
  into OCR detection, direction classification and recognition (RapidOCR's own per-step
  times, read from its output by a wrapper around the engine's RapidOCR object), the
  rest of the OCR call (resizing, padding, RapidOCR's word boxes) and the PII rules
  (line reconstruction, recognizers, blocks), ``code`` into zxing decoding and the QR
  and barcode finders, and the face model's calls counted. The wrappers only time calls:
  nothing in the pipeline changes.
* **Queue**: a private ``redis-server`` and two one-process Celery workers as child
  processes (as the tests start them), images submitted through ``RedactorClient`` with
  two jobs in flight; latency is submit to the job record's ``done`` time, p50 and p95.
* **Start-up**: ``Pipeline.build()`` in a fresh process, and from spawn to the full
  pipeline built (imports and model checks included); queue workers from start to the
  "models loaded" line in their log.
* **Peak RSS** per worker: ``getrusage`` of a spawned process holding the faces-only and
  full pipelines (as a queue worker does once it has served both kinds of job) after
  running both on every image size, ``VmHWM`` of the queue workers' pool processes; the
  throughput processes hold every measured pipeline, so their figure is larger.

``--quick`` skips the warm-ups and does one run on one image per size: it checks that
everything works; its figures mean little.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import socket
import statistics
import tempfile
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import wraps
from importlib import metadata
from pathlib import Path
from queue import Empty
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from bench import images as bench_images

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ("floor", "faces", "full")
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
#: (pipeline, image set) phases, in order: the targets' pipelines on the photo scenes at
#: both sizes, both on the studio scenes (plain backdrop), the levers at 1600x1200.
PHASES = (
    *((pipeline, size) for pipeline in PIPELINES for size in ("1600x1200", "4000x3000")),
    ("faces", "1600x1200-studio"),
    ("full", "1600x1200-studio"),
    ("faces_min32", "1600x1200"),
    ("full_det_full_size", "1600x1200"),
    ("full_det960", "1600x1200"),
    ("full_det_full_size", "4000x3000"),
    ("full_one_scale", "1600x1200"),
    ("full_one_scale", "4000x3000"),
)
PROCESS_COUNTS = (1, 2)
QUEUE_WORKERS = 2
#: Targets from the issue: images/s across the two cores at 1600x1200, seconds, MB.
TARGETS = {"faces": 20.0, "full": 2.0, "startup_s": 10.0, "rss_mb": 1536.0}
#: Issue 18's targets for the full pipeline, 2 processes, images/s, by image size.
FULL_TARGETS = {"1600x1200": 2.5, "4000x3000": 1.5}
#: Stage columns, in pipeline order; the text and code parts come from the probes.
STAGES = (
    "decode",
    "faces",
    "faces.model_calls",
    "ocr.propose",
    "ocr.det",
    "ocr.cls",
    "ocr.rec",
    "ocr.other",
    "pii_rules",
    "code.zxing",
    "code.qr_finder",
    "code.barcode_finder",
    "redact",
    "encode",
    "total",
)


# --- the machine ----------------------------------------------------------------------------


def describe_machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the versions of the libraries that do the work."""
    cpu = _proc_field(Path("/proc/cpuinfo"), "model name") or platform.processor()
    mem_kb = _proc_field(Path("/proc/meminfo"), "MemTotal")
    packages = ("mediapipe", "rapidocr", "onnxruntime", "opencv-python-headless", "pillow")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb.split()[0]) / 1024**2, 1) if mem_kb else None,
        "os": _os_name(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in packages},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


class LoadSampler:
    """The 1-minute load average every ``interval`` seconds while a benchmark runs: on a
    shared machine it tells how much the figures were disturbed (2 cores: 2 is full)."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 2))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        return {
            "mean": round(statistics.mean(self.samples), 2),
            "max": max(self.samples),
            "samples": len(self.samples),
        }


def _proc_field(path: Path, name: str) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _os_name() -> str:
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# --- probes: time parts of the detectors from outside -----------------------------------------


class StageProbe:
    """Accumulates milliseconds (and face-model calls) per part while one image runs."""

    def __init__(self) -> None:
        self.ms: defaultdict[str, float] = defaultdict(float)

    def timed(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(call)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.ms[name] += (time.perf_counter() - started) * 1000

        return timed_call

    def rapidocr(self, ocr: Any) -> Any:
        """Record RapidOCR's own detection, classification and recognition times."""
        return _TimedRapidOcr(ocr, self.ms)

    def attach(self, pipeline: Any) -> None:
        """Wrap the detectors' parts; the code module's functions are wrapped once."""
        for detector in pipeline.detectors:
            if detector.name == "faces":
                for family in detector.families:
                    for model in family.model_attributes:
                        wrapped = self._counted(getattr(family, model))
                        setattr(family, model, self.timed("faces.model", wrapped))
            if detector.name == "text":
                # Pipelines whose engine settings agree share one engine (see
                # redactor.text.engines.shared_engine): wrap it once only.
                engine = detector._engine
                if hasattr(engine, "_ocr") and not isinstance(engine._ocr, _TimedRapidOcr):
                    engine._ocr = self.rapidocr(engine._ocr)
                propose = getattr(engine, "propose", None)  # the two-scale first pass
                if propose is not None and not hasattr(propose, "__wrapped__"):
                    engine.propose = self.timed("ocr.propose", propose)

    def attach_modules(self) -> None:
        """Wrap the code finders and the text detector's OCR call (module functions, once)."""
        from redactor.text import codes, detector

        detector.read_text = self.timed("ocr", detector.read_text)  # type: ignore[attr-defined]
        for function, name in (
            ("read_codes", "code.zxing"),
            ("qr_regions", "code.qr_finder"),
            ("barcode_regions", "code.barcode_finder"),
        ):
            setattr(codes, function, self.timed(name, getattr(codes, function)))

    def _counted(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.ms["faces.model_calls"] += 1
            return call(*args, **kwargs)

        return counted

    def take(self, timings: dict[str, float]) -> dict[str, float]:
        """The report's timings with the text stage split; clears the probe."""
        parts = dict(self.ms)
        self.ms.clear()
        if "ocr" in parts:
            steps = sum(parts.get(k, 0.0) for k in ("ocr.propose", "ocr.det", "ocr.cls", "ocr.rec"))
            parts["ocr.other"] = parts.pop("ocr") - steps
            parts["pii_rules"] = timings.get("text", 0.0) - parts["ocr.other"] - steps
        return {**timings, **parts}


class _TimedRapidOcr:
    """A RapidOCR object whose calls add its per-step times to ``ms``; every attribute
    (the engine adapter sets its detector's canvas) is the wrapped object's."""

    def __init__(self, ocr: Any, ms: defaultdict[str, float]) -> None:
        self._wrapped = ocr
        self._ms = ms

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self._wrapped(*args, **kwargs)
        steps = [*getattr(output, "elapse_list", []), None, None, None][:3]
        for name, seconds in zip(("ocr.det", "ocr.cls", "ocr.rec"), steps, strict=True):
            self._ms[name] += (seconds or 0.0) * 1000
        return output


# --- work done in a spawned process ----------------------------------------------------------

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


def _pipeline_runner(name: str, probe: StageProbe) -> tuple[Runner, float]:
    """The pipeline ``name`` built (and how long that took), wrapped by ``probe``."""
    from redactor.options import PipelineOptions
    from redactor.pipeline import Pipeline

    options = PipelineOptions(**PIPELINE_OPTIONS[name])
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
    names: Sequence[str],
) -> tuple[dict[str, Runner], dict[str, float], float]:
    """The full pipeline first (a worker's default), then the others ``names`` holds;
    also the build seconds of each and the wall-clock time the full one was ready."""
    probe = StageProbe()
    probe.attach_modules()
    runners: dict[str, Runner] = {"floor": _floor_runner()}
    build_s: dict[str, float] = {}
    runners["full"], build_s["full"] = _pipeline_runner("full", probe)
    full_ready_at = time.time()
    for name in dict.fromkeys(names):
        if name not in runners:
            runners[name], build_s[name] = _pipeline_runner(name, probe)
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
    from redactor.threads import limit_threads

    limit_threads(job.threads)
    runners, build_s, full_ready_at = _build_runners([p for p, _, _ in job.phases])
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
) -> list[ProcessReport]:
    """Spawn ``processes`` processes doing ``phases`` in step; their reports in order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    children = [
        context.Process(
            target=_process_main,
            args=(
                Job(i, processes, phases, runs, warm_up, time.time(), threads),
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


# --- summaries ------------------------------------------------------------------------------


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


# --- the queue ------------------------------------------------------------------------------


@dataclass
class QueueResult:
    workers: int
    startup_s: list[float] = field(default_factory=list)
    #: Latency seconds (submit to done) and throughput, by pipeline name.
    latency_s: dict[str, list[float]] = field(default_factory=dict)
    images_per_s: dict[str, float] = field(default_factory=dict)
    #: VmHWM of each worker's pool process, and of its supervising process, in MB.
    pool_rss_mb: list[float] = field(default_factory=list)
    supervisor_rss_mb: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _vm_hwm_mb(pid: int) -> float:
    status = _proc_field(Path(f"/proc/{pid}/status"), "VmHWM")
    return int(status.split()[0]) / 1024 if status else 0.0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@contextmanager
def queue_stack(root: Path, workers: int, result: QueueResult) -> Iterator[Any]:
    """Redis and ``workers`` one-process workers (full pipeline by default) in ``root``;
    yields a connected client and stops every process on exit."""
    from redactor.service.client import RedactorClient
    from redactor.service.settings import ServiceSettings
    from redactor.service.stack import RedisServer, wait_for_log, worker_process

    redis_server = RedisServer(root / "redis", port=_free_port(), log_path=root / "redis.log")
    fields = {
        "dev_mode": "1",
        "redis_url": f"redis://127.0.0.1:{redis_server.port}/0",
        "storage_dir": str(root / "storage"),
        "scratch_dir": str(root / "scratch"),
    }
    env = {**os.environ, **{f"REDACTOR_{k.upper()}": v for k, v in fields.items()}}
    env["GLOG_minloglevel"] = "2"
    children = [
        worker_process(
            env=env,
            concurrency=1,
            queue="redactor",
            hostname=f"bench{i}@%h",
            log_path=root / f"worker{i}.log",
        )
        for i in range(workers)
    ]
    redis_server.start()
    try:
        started = time.monotonic()
        for child in children:
            child.start()
        for i, child in enumerate(children):
            log = root / f"worker{i}.log"
            wait_for_log(log, "models loaded", timeout=180, child=child)
            result.startup_s.append(time.monotonic() - started)
        with RedactorClient(ServiceSettings(**fields)) as client:  # type: ignore[arg-type]
            yield client
        for child in children:
            assert child.process is not None
            pool = _children(child.process.pid)
            result.supervisor_rss_mb.append(_vm_hwm_mb(child.process.pid))
            result.pool_rss_mb += [_vm_hwm_mb(pid) for pid in pool]
    finally:
        for child in children:
            child.stop()
        redis_server.stop()


def closed_loop(client: Any, images: Sequence[bytes], options: Any, in_flight: int) -> list[float]:
    """Submit ``images`` keeping ``in_flight`` jobs running; submit-to-done seconds each."""
    from redactor.clock import utcnow
    from redactor.jobs import JobState

    pending = deque(images)
    running: dict[str, datetime] = {}
    latencies = []
    while pending or running:
        while pending and len(running) < in_flight:
            submitted = utcnow()
            running[client.submit(pending.popleft(), tenant="bench", options=options)] = submitted
        time.sleep(0.02)
        for job_id, submitted in list(running.items()):
            record = client.status(job_id)
            if not record.finished:
                continue
            if record.state is not JobState.DONE:
                raise RuntimeError(f"job {job_id} ended {record.state}: {record.failure_code}")
            latencies.append((record.finished_at - submitted).total_seconds())
            del running[job_id]
    return latencies


def measure_queue(paths: Sequence[Path], jobs: int, warm_up: bool) -> QueueResult:
    from redactor.options import PipelineOptions

    options = {"faces": PipelineOptions(text="off", codes=False), "full": PipelineOptions()}
    data = [p.read_bytes() for p in paths]
    images = [data[i % len(data)] for i in range(jobs)]
    result = QueueResult(QUEUE_WORKERS)
    with (
        tempfile.TemporaryDirectory(prefix="bench-speed-") as folder,
        queue_stack(Path(folder), QUEUE_WORKERS, result) as client,
    ):
        for name, chosen in options.items():
            if warm_up:  # each worker builds the faces-only pipeline on its first such job
                closed_loop(client, data[: 2 * QUEUE_WORKERS], chosen, QUEUE_WORKERS)
            started = time.perf_counter()
            result.latency_s[name] = closed_loop(client, images, chosen, QUEUE_WORKERS)
            result.images_per_s[name] = jobs / (time.perf_counter() - started)
    return result


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- report ---------------------------------------------------------------------------------


def _table(title: str, columns: Sequence[str], labels: int = 1) -> Table:
    """A table whose first ``labels`` columns are left-aligned labels, the rest figures."""
    view = Table(title=title)
    for index, column in enumerate(columns):
        view.add_column(column, justify="left" if index < labels else "right")
    return view


def throughput_table(rows: Sequence[ThroughputRow]) -> Table:
    view = _table(
        "Throughput, images/s (median of runs; 1 thread per process)",
        ("pipeline", "size", "1 process", "2 processes", "2p / 1p", "ms/image (1p)"),
        labels=2,
    )
    for row in rows:
        one, two = row.median(1), row.median(2)
        view.add_row(
            row.pipeline,
            row.size,
            f"{one:.2f}",
            f"{two:.2f}",
            f"{two / one:.2f}",
            f"{row.stages.get('total', 0):.0f}",
        )
    return view


def stage_table(rows: Sequence[ThroughputRow]) -> Table:
    """Stages down, pipeline and size across: mean ms per image, one process."""
    view = Table(title="Mean ms per image by stage, one process (median of runs)")
    view.add_column("stage")
    for row in rows:
        view.add_column(f"{row.pipeline}\n{row.size}", justify="right")
    for stage in STAGES:
        if any(stage in row.stages for row in rows):
            cells = [f"{row.stages[stage]:.0f}" if stage in row.stages else "" for row in rows]
            view.add_row(stage, *cells)
    return view


def threads_comparison(
    rows: Sequence[ThroughputRow],
    threaded: Sequence[ProcessReport],
    phases: Sequence[tuple[str, str, tuple[str, ...]]],
) -> list[dict[str, Any]]:
    """The same two cores used two ways: one process of two threads against two
    processes of one thread (and one process of one thread), per 1600x1200 pipeline."""
    at = {(r.pipeline, r.size): r for r in rows}
    compared = []
    for index, (pipeline, size, _) in enumerate(phases):
        row = at[(pipeline, size)]
        two_threads = statistics.median(throughput(threaded, index))
        compared.append(
            {
                "pipeline": pipeline,
                "size": size,
                "one_process_one_thread": round(row.median(1), 3),
                "one_process_two_threads": round(two_threads, 3),
                "two_processes_one_thread": round(row.median(2), 3),
            }
        )
    return compared


def threads_table(compared: Sequence[dict[str, Any]]) -> Table:
    view = _table(
        "Two cores, two ways: images/s at 1600x1200 (median of runs)",
        ("pipeline", "1 process x 1 thread", "1 x 2 threads", "2 processes x 1"),
    )
    for row in compared:
        view.add_row(
            row["pipeline"],
            f"{row['one_process_one_thread']:.2f}",
            f"{row['one_process_two_threads']:.2f}",
            f"{row['two_processes_one_thread']:.2f}",
        )
    return view


def queue_table(queue: QueueResult) -> Table:
    view = _table(
        f"Through the queue: {queue.workers} one-process workers, 1600x1200",
        ("pipeline", "jobs", "p50 s", "p95 s", "images/s"),
    )
    for name, latencies in queue.latency_s.items():
        view.add_row(
            name,
            str(len(latencies)),
            f"{percentile(latencies, 50):.2f}",
            f"{percentile(latencies, 95):.2f}",
            f"{queue.images_per_s[name]:.2f}",
        )
    return view


def worker_phases(
    phases: Sequence[tuple[str, str, tuple[str, ...]]],
) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The phases a queue worker's pool process would see: the faces-only and full
    pipelines (and nothing else) on every image size, largest first."""
    chosen = [p for p in phases if p[0] in ("faces", "full")]
    return tuple(sorted(chosen, key=lambda p: ("4000" not in p[1], p[0] != "full")))


def startup_summary(
    by_count: dict[int, list[ProcessReport]],
    queue: QueueResult,
    worker_like: Sequence[ProcessReport],
) -> dict[str, Any]:
    reports = [r for rs in by_count.values() for r in rs]
    return {
        "pipeline_build_full_s": statistics.median(r.build_s["full"] for r in reports),
        "pipeline_build_faces_s": statistics.median(r.build_s["faces"] for r in reports),
        "spawn_to_full_pipeline_s": statistics.median(r.startup_s for r in reports),
        "queue_worker_start_to_models_loaded_s": max(queue.startup_s),
        "peak_rss_mb_spawned_1p": max(r.peak_rss_mb for r in by_count[1]),
        "peak_rss_mb_spawned_2p": max(r.peak_rss_mb for r in by_count[2]),
        # The processes above hold every measured pipeline (two OCR engines among them);
        # a worker holds two pipelines: this process ran those two on every size.
        "peak_rss_mb_worker_pipelines_all_sizes": max(r.peak_rss_mb for r in worker_like),
        "peak_rss_mb_queue_pool": max(queue.pool_rss_mb, default=0.0),
        "peak_rss_mb_queue_supervisor": max(queue.supervisor_rss_mb, default=0.0),
    }


def targets(rows: Sequence[ThroughputRow], startup: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the figure measured for it."""
    at = {(r.pipeline, r.size): r for r in rows}
    worst_rss = max(
        startup["peak_rss_mb_worker_pipelines_all_sizes"], startup["peak_rss_mb_queue_pool"]
    )
    worst_start = max(
        startup["queue_worker_start_to_models_loaded_s"], startup["spawn_to_full_pipeline_s"]
    )
    faces, full = at[("faces", "1600x1200")].median(2), at[("full", "1600x1200")].median(2)
    checks = [
        ("faces-only 1600x1200, 2 processes, images/s", faces, TARGETS["faces"], ">="),
        ("full 1600x1200, 2 processes, images/s", full, TARGETS["full"], ">="),
        ("worker start-up, s", worst_start, TARGETS["startup_s"], "<="),
        ("peak RSS per worker, MB", worst_rss, TARGETS["rss_mb"], "<="),
    ]
    return [
        {
            "target": name,
            "measured": round(value, 2),
            "goal": f"{op} {goal:g}",
            "met": value >= goal if op == ">=" else value <= goal,
        }
        for name, value, goal, op in checks
    ]


def targets_table(checks: Sequence[dict[str, Any]]) -> Table:
    view = _table(
        "Targets (recall targets: python -m bench.peers)", ("target", "measured", "goal", "met")
    )
    for check in checks:
        view.add_row(
            check["target"],
            f"{check['measured']:g}",
            check["goal"],
            "yes" if check["met"] else "NO",
        )
    return view


# --- command --------------------------------------------------------------------------------


def work_dir(out: Path) -> Path:
    """Where a run keeps its images (and outputs): beside its report, so runs with
    different reports (a smoke test and a full run, say) never touch each other's files."""
    return out.parent / f"{out.stem}-work"


def prepare_images(counts: dict[str, int], folder: Path) -> dict[str, list[Path]]:
    """Write the benchmark images (regenerated each run: they are deterministic)."""
    return {
        size: bench_images.write_set(bench_images.image_set(size, count), folder / size)
        for size, count in counts.items()
    }


def plan(
    paths: dict[str, list[Path]], pipelines: Sequence[str] | None = None
) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The phases of :data:`PHASES` whose image set was written (and whose pipeline is
    among ``pipelines``, when given)."""
    return tuple(
        (pipeline, size, tuple(str(p) for p in paths[size]))
        for pipeline, size in PHASES
        if size in paths and (pipelines is None or pipeline in pipelines)
    )


def full_targets(rows: Sequence[ThroughputRow]) -> list[dict[str, Any]]:
    """Issue 18's targets: the full pipeline's images/s with two processes, per size."""
    at = {(r.pipeline, r.size): r for r in rows}
    return [
        {
            "target": f"full {size}, 2 processes, images/s",
            "measured": round(at[("full", size)].median(2), 2),
            "goal": f">= {goal:g}",
            "met": at[("full", size)].median(2) >= goal,
        }
        for size, goal in FULL_TARGETS.items()
        if ("full", size) in at
    ]


def _names(value: str | None, known: Sequence[str], what: str) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise click.BadParameter(f"unknown {what} {unknown}; choose from {', '.join(known)}")
    return names


@click.command()
@click.option("--quick", is_flag=True, help="One image per size, one run, no warm-up.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=ROOT / "bench-out" / "speed.json",
    show_default=True,
)
@click.option("--runs", type=click.IntRange(1), default=None, help="Default 3 (quick: 1).")
@click.option("--queue-jobs", type=click.IntRange(1), default=None, help="Default 24 (quick: 2).")
@click.option(
    "--pipelines",
    default=None,
    metavar="NAMES",
    help="Only the phases of these pipelines (comma-separated, e.g. full,full_one_scale); "
    "implies --throughput-only.",
)
@click.option(
    "--sizes",
    default=None,
    metavar="SIZES",
    help="Only these image sets (comma-separated, e.g. 1600x1200,4000x3000).",
)
@click.option(
    "--images",
    type=click.IntRange(1),
    default=None,
    help="Images per set (default 12 at 1600x1200, 4 for the others; quick: 1).",
)
@click.option(
    "--throughput-only",
    is_flag=True,
    help="Throughput and stages only: no worker-memory, threads or queue phases.",
)
def main(
    quick: bool,
    out: Path,
    runs: int | None,
    queue_jobs: int | None,
    pipelines: str | None,
    sizes: str | None,
    images: int | None,
    throughput_only: bool,
) -> None:
    """Measure throughput, stages, queue latency, start-up and memory; see the docstring."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # inherited by every child process
    runs = runs or (1 if quick else 3)
    queue_jobs = queue_jobs or (2 if quick else 24)
    chosen = _names(pipelines, ["floor", *PIPELINE_OPTIONS], "pipelines")
    chosen_sizes = _names(sizes, list(bench_images.SIZES), "sizes")
    throughput_only = throughput_only or chosen is not None or chosen_sizes is not None
    counts = (
        {"1600x1200": 1, "4000x3000": 1, "1600x1200-studio": 1}
        if quick
        else {"1600x1200": 12, "4000x3000": 4, "1600x1200-studio": 4}
    )
    if images is not None:
        counts = dict.fromkeys(counts, images)
    if chosen_sizes is not None:
        counts = {size: n for size, n in counts.items() if size in chosen_sizes}
    machine_before = describe_machine()
    paths = prepare_images(counts, work_dir(out) / "images")
    phases = plan(paths, chosen)
    if not phases:
        raise click.UsageError("no phase measures those pipelines on those sizes")
    by_count = {}
    queue: QueueResult | None = None
    with LoadSampler() as load:
        for count in PROCESS_COUNTS:
            click.echo(f"{count} process(es): {len(phases)} phases x {runs} run(s) ...", err=True)
            by_count[count] = run_processes(count, phases, runs, warm_up=not quick)
        if not throughput_only:
            click.echo("a worker's memory: both pipelines on every size ...", err=True)
            worker_like = run_processes(1, worker_phases(phases), 1, warm_up=False)
            threaded_phases = tuple(p for p in phases if p[1] == "1600x1200" and p[0] in PIPELINES)
            click.echo("1 process of 2 threads: the 1600x1200 phases ...", err=True)
            threaded = run_processes(1, threaded_phases, runs, warm_up=not quick, threads=2)
            click.echo(
                f"queue: {QUEUE_WORKERS} workers, {queue_jobs} jobs per pipeline ...", err=True
            )
            queue = measure_queue(paths["1600x1200"], queue_jobs, warm_up=not quick)
    rows = summarise(by_count, phases)
    console = Console()
    views = [throughput_table(rows), stage_table(rows)]
    report: dict[str, Any] = {
        "quick": quick,
        "runs": runs,
        "images": counts,
        "machine": machine_before,
        "load_average_during": load.summary(),
        "throughput": [asdict(row) for row in rows],
        "full_targets": full_targets(rows),
    }
    if queue is not None:
        threads_rows = threads_comparison(rows, threaded, threaded_phases)
        startup = startup_summary(by_count, queue, worker_like)
        checks = targets(rows, startup)
        views[1:1] = [threads_table(threads_rows)]
        views += [queue_table(queue), targets_table(checks)]
        report.update(
            threads=threads_rows,
            queue=asdict(queue),
            startup_and_memory=startup,
            targets=checks,
        )
    views.append(targets_table(report["full_targets"]))
    for view in views:
        console.print(view)
    if queue is not None:
        console.print({k: round(v, 2) for k, v in report["startup_and_memory"].items()})
    console.print(f"load average during the run (2 cores): {load.summary()}")
    report["processes"] = {str(k): [asdict(r) for r in v] for k, v in by_count.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    console.print(f"saved {out}")


if __name__ == "__main__":
    main()

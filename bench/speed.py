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
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from bench import images as bench_images
from bench.machine import LoadSampler, describe_machine
from bench.speed_processes import PIPELINE_OPTIONS, ThroughputRow, run_processes, summarise
from bench.speed_queue import QUEUE_WORKERS, QueueResult, measure_queue
from bench.speed_report import (
    queue_table,
    stage_table,
    startup_summary,
    targets,
    targets_table,
    threads_comparison,
    threads_table,
    throughput_table,
    worker_phases,
)
from redactor.cli import ocr_precision as precision_option

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ("floor", "faces", "full")
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
#: Issue 18's targets for the full pipeline, 2 processes, images/s, by image size.
FULL_TARGETS = {"1600x1200": 2.5, "4000x3000": 1.5}


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
@precision_option.click_option()
def main(
    quick: bool,
    out: Path,
    runs: int | None,
    queue_jobs: int | None,
    pipelines: str | None,
    sizes: str | None,
    images: int | None,
    throughput_only: bool,
    ocr_precision: str,
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
            by_count[count] = run_processes(
                count, phases, runs, warm_up=not quick, ocr_precision=ocr_precision
            )
        if not throughput_only:
            click.echo("a worker's memory: both pipelines on every size ...", err=True)
            worker_like = run_processes(
                1, worker_phases(phases), 1, warm_up=False, ocr_precision=ocr_precision
            )
            threaded_phases = tuple(p for p in phases if p[1] == "1600x1200" and p[0] in PIPELINES)
            click.echo("1 process of 2 threads: the 1600x1200 phases ...", err=True)
            threaded = run_processes(
                1,
                threaded_phases,
                runs,
                warm_up=not quick,
                threads=2,
                ocr_precision=ocr_precision,
            )
            click.echo(
                f"queue: {QUEUE_WORKERS} workers, {queue_jobs} jobs per pipeline ...", err=True
            )
            queue = measure_queue(
                paths["1600x1200"], queue_jobs, warm_up=not quick, ocr_precision=ocr_precision
            )
    rows = summarise(by_count, phases)
    console = Console()
    views = [throughput_table(rows), stage_table(rows)]
    report: dict[str, Any] = {
        "quick": quick,
        "runs": runs,
        "ocr_precision": ocr_precision,
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

"""The tables ``bench.speed`` prints, and its figures checked against the targets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from bench.speed_processes import ProcessReport, ThroughputRow, throughput
from bench.speed_queue import QueueResult, percentile

#: Targets from the issue: images/s across the two cores at 1600x1200, seconds, MB.
TARGETS = {"faces": 20.0, "full": 2.0, "startup_s": 10.0, "rss_mb": 1536.0}
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
    # document mode (the reviewer's pass; on images without a document, finding none)
    "documents",
    "redact",
    "encode",
    "total",
)


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
            cells = [_ms(row.stages[stage]) if stage in row.stages else "" for row in rows]
            view.add_row(stage, *cells)
    return view


def _ms(value: float) -> str:
    """Milliseconds as the stage table prints them: a tenth below 10 ms (document mode
    takes about a millisecond where there is no document)."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


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

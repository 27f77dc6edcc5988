"""Measure what capacity planning needs: seconds per image, sizes, Redis bytes per job.

    python deploy/capacity.py [--repeat 1] [--records 2000] [--reports FILE [--redis-only]]

One process, one thread (as a worker process runs when there is one per core), the
default pipeline (faces, personal text with RapidOCR, codes), models loaded first and
one warm-up image. Images: the four in samples/, ten photos from the shared test set
(one of them a full 12 MP phone photo) and three rendered 1600x1200 scenes with
personal text. Then a private redis-server holds ``--records`` finished job records
with the reports those images produced, to measure Redis memory per job at each stage
of a job's life (``--reports FILE`` keeps the reports, so ``--redis-only`` can measure
again without running the pipeline).

Prints the figures docs/deploy.md's capacity table is built from. Only sizes, counts
and times are printed.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from PIL import Image
from pillow_heif import register_heif_opener

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redactor.clock import utcnow  # noqa: E402
from redactor.jobs import JobRecord, JobResult, JobState  # noqa: E402
from redactor.options import PipelineOptions  # noqa: E402
from redactor.pipeline import Pipeline  # noqa: E402
from redactor.retention import Deleter, DueItem, Target  # noqa: E402
from redactor.service.redis_audit import AuditArchiver  # noqa: E402
from redactor.service.redis_jobs import RedisJobStore, connect  # noqa: E402
from redactor.service.stack import RedisServer  # noqa: E402
from redactor.storage import LocalStorage, keys  # noqa: E402
from redactor.threads import limit_threads  # noqa: E402
from testkit.paths import SHARED_IMAGES  # noqa: E402
from testkit.text_scenes import SCENES  # noqa: E402

SHARED = [
    "face_group_selfie.jpg",
    "face_holding_award.jpg",
    "face_portrait_closeup.jpg",
    "face_crowd_fans.jpg",
    "exif_orientation8_portrait.jpg",
    "exif_iphone_gps.heic",
    "plate_cn_car_street.jpg",
    "receipt_store_card.jpg",
    "product_hands_no_face.jpg",
    "doc_handwritten_form_iphone.jpg",
]
SCENE_SIZE = (1600, 1200)


def images() -> dict[str, bytes]:
    found = {p.name: p.read_bytes() for p in sorted((ROOT / "samples").rglob("*.*"))}
    found.update({name: (SHARED_IMAGES / name).read_bytes() for name in SHARED})
    for name, make in SCENES.items():
        buffer = io.BytesIO()
        scene = Image.fromarray(make().image).resize(SCENE_SIZE, Image.Resampling.BICUBIC)
        scene.save(buffer, "JPEG", quality=90)
        found[f"scene_{name}_1600x1200.jpg"] = buffer.getvalue()
    return found


def time_pipeline(
    pipeline: Pipeline, inputs: dict[str, bytes], repeat: int
) -> list[dict[str, Any]]:
    pipeline.run(next(iter(inputs.values())))  # warm-up
    rows = []
    for name, data in inputs.items():
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = pipeline.run(data)
            runs.append(time.perf_counter() - started)
        assert result.ok, (name, result.report.error_code)
        with Image.open(io.BytesIO(data)) as im:
            pixels = im.size[0] * im.size[1]
        rows.append(
            {
                "name": name,
                "megapixels": pixels / 1e6,
                "seconds": min(runs),
                "in_bytes": len(data),
                "out_bytes": len(result.output or b""),
                "report": result.report.to_dict(),
            }
        )
    return rows


def redis_bytes_per_job(
    reports: list[dict[str, Any]], records: int
) -> dict[str, tuple[float, float]]:
    """Redis bytes per job at each stage of its life, over ``records`` jobs, as
    ``(MEMORY USAGE summed over every key, used_memory)`` growth from an empty database:

    * ``finished``: just done (record, listing, retention and settled indexes);
    * ``held``: its original deleted, result and report kept: most of the result window;
    * ``settled``: everything deleted; the record kept for its grace, the audit events
      (three deletions) still in the live tail;
    * ``tombstone``: the tail archived to storage, the record still in its grace;
    * ``gone``: after the grace (record removed).
    """
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        server = RedisServer(data, port=_free_port(), appendfsync="no", log_path=data / "log")
        server.start()
        try:
            client = connect(server.url)
            storage = LocalStorage(data / "storage")
            store = RedisJobStore(client, result_retention=timedelta(days=30))
            start = _memory(client)
            job_ids = [_finished_job(store, reports[i % len(reports)]) for i in range(records)]
            stages = {"finished": _memory(client)}
            now = utcnow()
            for stage, days, target in (
                ("held", 2, Target.ORIGINAL),
                ("settled", 31, Target.RESULT),
            ):
                later = now + timedelta(days=days)
                deleter = Deleter(storage, store, lambda at=later: at, "capacity:1")
                for job_id in job_ids:
                    deleter.delete_if_due(DueItem(target, job_id))
                stages[stage] = _memory(client)
            # Three deletions per job: three full segments, nothing left in the tail.
            AuditArchiver(client, storage, segment_events=records).archive()
            stages["tombstone"] = _memory(client)
            store.purge_settled(now + timedelta(days=31))
            stages["gone"] = _memory(client)
            return {
                stage: ((summed - start[0]) / records, (used - start[1]) / records)
                for stage, (summed, used) in stages.items()
            }
        finally:
            server.stop()


def _memory(client: redis.Redis) -> tuple[int, int]:
    """``MEMORY USAGE`` (exact) summed over every key, and ``used_memory``."""
    summed = sum(
        int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter(count=1000)
    )
    return summed, int(client.info("memory")["used_memory"])


def _finished_job(store: RedisJobStore, report: dict[str, Any]) -> str:
    job_id = keys.new_upload_id()
    record = JobRecord.new(
        job_id, "tenant-a", PipelineOptions(), now=utcnow(), original_retention=timedelta(hours=24)
    )
    store.create(record)
    store.transition(job_id, JobState.QUEUED, expected={JobState.RECEIVED})
    claimed = store.transition(job_id, JobState.PROCESSING, expected={JobState.QUEUED}, attempt=0)
    result = JobResult(
        result_key=keys.result_key("tenant-a", job_id, "jpeg"),
        report_key=keys.report_key("tenant-a", job_id),
        output_format="jpeg",
        counts=report["counts"],
    )
    store.set_result(job_id, result, attempt=claimed.attempts)
    return job_id


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per image (the fastest counts)")
    parser.add_argument("--records", type=int, default=2000, help="job records for Redis memory")
    parser.add_argument("--reports", type=Path, help="save the reports here (or read them back)")
    parser.add_argument(
        "--redis-only", action="store_true", help="only Redis memory, from --reports"
    )
    args = parser.parse_args()
    if args.redis_only:
        reports = json.loads(args.reports.read_text())
    else:
        reports = measure_pipeline(args.repeat)
        if args.reports:
            args.reports.write_text(json.dumps(reports))
    print("\nRedis bytes per job (MEMORY USAGE summed over every key, used_memory growth):")
    print("| stage | MEMORY USAGE | used_memory |\n|---|---|---|")
    for stage, (summed, used) in redis_bytes_per_job(reports, args.records).items():
        print(f"| {stage} | {summed:.0f} | {used:.0f} |")


def measure_pipeline(repeat: int) -> list[dict[str, Any]]:
    """Time the pipeline on every image, print the figures; returns the reports."""
    register_heif_opener()
    limit_threads(1)
    started = time.perf_counter()
    pipeline = Pipeline.build(PipelineOptions(), hash_key=b"capacity-measurement")
    load_seconds = time.perf_counter() - started
    rows = time_pipeline(pipeline, images(), repeat)

    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"models loaded in {load_seconds:.1f} s\n")
    print("| image | MP | s | in KiB | out KiB |\n|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['name']} | {row['megapixels']:.1f} | {row['seconds']:.2f} "
            f"| {row['in_bytes'] / 1024:.0f} | {row['out_bytes'] / 1024:.0f} |"
        )
    seconds = [row["seconds"] for row in rows]
    median = statistics.median(seconds)
    print(f"\nmedian {median:.2f} s/image, mean {statistics.mean(seconds):.2f} s/image")
    print(f"images/hour per core at the median: {3600 / median:.0f}")
    print(f"mean original {statistics.mean(r['in_bytes'] for r in rows) / 1024:.0f} KiB")
    print(f"mean result {statistics.mean(r['out_bytes'] for r in rows) / 1024:.0f} KiB")
    reports = [r["report"] for r in rows]
    report_bytes = statistics.mean(len(json.dumps(r, sort_keys=True)) for r in reports)
    print(f"mean report {report_bytes / 1024:.1f} KiB")
    return reports


if __name__ == "__main__":
    main()

"""Storage that fails while results are written: a full disk and a refused write.

The faults are real, not mocked: storage lives on a size-limited tmpfs mounted for the
test (``ENOSPC`` once it is full), and a folder made immutable with ``chattr +i``
refuses every new entry with ``EPERM`` even to root (who ignores file modes, so a
``chmod`` would prove nothing here). Mounting needs root; elsewhere these tests skip.

Promises: the job fails with a reason that says what happened (after the task's
retries, for the worker), nothing half-written is ever visible (no result without its
report, no temp file left), the original is still deleted on schedule, and the service
works again once the disk has room.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from redactor.audit import AuditFilter
from redactor.clock import utcnow
from redactor.errors import StorageError
from redactor.jobs import JobRecord, JobState
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from redactor.service.client import RedactorClient
from redactor.service.processor import PipelineCache, Processor
from redactor.service.retention_setup import open_retention
from redactor.storage import LocalStorage, Storage, keys
from redactor.task_message import TaskMessage
from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import (
    Sweeping,
    Tmpfs,
    World,
    immutable,
    record_figures,
    small_face_images,
    wait_until,
)
from tests.support import ROOT

pytestmark = [pytest.mark.reliability, pytest.mark.redis, pytest.mark.slow]

LIMITS = {"task_soft_time_limit": "20", "task_time_limit": "25", "visibility_timeout": "30"}
#: Decode and encode for real, detect nothing: storage is what these tests are about.
NO_DETECTORS = PipelineOptions(faces=False, text="off", codes=False)


def _temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(".tmp-")]


def _objects(storage: Storage, prefix: str, tenant: str) -> list[str]:
    return [item.key for item in storage.list(f"{prefix}/{tenant}/")]


@pytest.fixture
def full_disk_world(
    world_factory: Callable[..., World], tmpfs: Callable[[Path, str], Tmpfs]
) -> Iterator[tuple[World, Tmpfs]]:
    world = world_factory("full-disk", **LIMITS)
    disk = tmpfs(world.root / "storage", "8m")
    yield world, disk


@pytest.mark.timeout(400)
def test_given_disk_full_while_writing_results_then_jobs_fail_clearly_and_originals_still_go(
    full_disk_world: tuple[World, Tmpfs],
) -> None:
    world, disk = full_disk_world
    client = world.client()
    tenant = f"full-{uuid.uuid4().hex[:8]}"
    images = small_face_images()
    # One job: once it has failed, the sweep deletes its original (window 0), and the
    # room that frees would let a second job through.
    job_ids = [
        client.submit(
            images[0], tenant=tenant, options=FAST_OPTIONS, original_retention=timedelta(0)
        )
    ]
    ballast = disk.fill()
    with pytest.raises(StorageError, match="No space left on device"):
        client.submit(images[2], tenant=tenant, options=FAST_OPTIONS)
    sweeping = Sweeping(world)
    sweeping.start()
    started = time.monotonic()
    world.start_worker("worker")  # takes the job only now, with the disk full
    records = [client.wait(job_id, timeout=240) for job_id in job_ids]
    failed_after = time.monotonic() - started

    storage = LocalStorage(world.root / "storage")
    for record in records:
        assert (record.state, record.failure_code) == (JobState.FAILED, "unavailable"), record
        assert "No space left on device" in (record.failure_message or ""), record
    assert _objects(storage, keys.RESULTS, tenant) == []
    assert _objects(storage, keys.REPORTS, tenant) == []
    assert _temp_files(world.root / "storage") == []
    assert len(client.jobs.list_by_tenant(tenant)) == 1  # the refused submit left no record
    wait_until(
        lambda: _objects(storage, keys.ORIGINALS, tenant) == [],
        timeout=30,
        what="originals of the failed jobs deleted by the sweep",
    )
    sweeping.stop()

    ballast.unlink()  # room again: the service recovers by itself
    after = client.submit(images[0], tenant=tenant, options=FAST_OPTIONS)
    assert client.wait(after, timeout=120).state is JobState.DONE
    record_figures(
        "storage_full",
        {
            "jobs": len(job_ids),
            "failure": {"code": records[0].failure_code, "message": records[0].failure_message},
            "seconds_until_failed_after_retries": round(failed_after, 1),
            "originals_left": 0,
            "audit_deletions": [
                (e.kind.value, e.reason.value)
                for e in open_retention(world.env.settings()).audit.read(AuditFilter(tenant=tenant))
            ],
        },
    )


# --- In this process: the processor against real file-system errors -------------------------


def _queued(client: RedactorClient, tenant: str, data: bytes) -> str:
    """Store an original and create its queued record, as ``submit`` does (no task sent)."""
    job_id = keys.new_upload_id()
    record = JobRecord.new(
        job_id, tenant, NO_DETECTORS, now=utcnow(), original_retention=timedelta(0)
    )
    client.storage.put(record.original_key, data)
    client.jobs.create(record)
    client.jobs.transition(job_id, JobState.QUEUED, expected={JobState.RECEIVED})
    return TaskMessage.for_job(job_id, tenant, NO_DETECTORS).model_dump_json()


@pytest.fixture
def local_world(
    world_factory: Callable[..., World], tmpfs: Callable[[Path, str], Tmpfs]
) -> Iterator[tuple[World, Tmpfs, Processor, RedactorClient]]:
    world = world_factory("in-process")
    disk = tmpfs(world.root / "storage", "4m")
    client = world.client()
    processor = Processor(
        storage=client.storage,
        jobs=client.jobs,
        pipelines=PipelineCache(lambda options: Pipeline(options, [])),
        default_options=NO_DETECTORS,
        original_retention=timedelta(0),
        scratch_dir=world.root / "scratch",
    )
    yield world, disk, processor, client


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_given_results_folder_refuses_writes_then_nothing_is_written_and_a_retry_publishes(
    local_world: tuple[World, Tmpfs, Processor, RedactorClient],
) -> None:
    _, disk, processor, client = local_world
    tenant = "eperm"
    message = _queued(client, tenant, _png())
    locked = disk.path / keys.RESULTS / tenant
    locked.mkdir(parents=True)
    immutable(locked)

    with pytest.raises(StorageError, match="Operation not permitted"):
        processor.process(message)  # the task layer retries this

    job_id = json.loads(message)["job_id"]
    assert client.status(job_id).state is JobState.PROCESSING
    assert _objects(client.storage, keys.RESULTS, tenant) == []
    assert _objects(client.storage, keys.REPORTS, tenant) == []
    assert _temp_files(disk.path) == []
    immutable(locked, on=False)
    assert processor.process(message, retries=1) == "done"
    assert client.result(job_id)
    assert client.status(job_id).original_deleted_at is not None  # window 0


def test_given_storage_fails_through_every_retry_then_the_retries_never_count_as_lost_workers(
    local_world: tuple[World, Tmpfs, Processor, RedactorClient],
) -> None:
    """Each retry claims the job again (its attempt count goes up) but is no lost worker."""
    _, disk, processor, client = local_world
    message = _queued(client, "retried", _png())
    locked = disk.path / keys.RESULTS / "retried"
    locked.mkdir(parents=True)
    immutable(locked)
    for retries in range(6):  # the task's six retries, as Celery numbers them
        with pytest.raises(StorageError):
            processor.process(message, retries=retries)
    immutable(locked, on=False)

    assert processor.process(message, retries=6) == "done"
    assert client.status(json.loads(message)["job_id"]).attempts == 7


def test_given_report_cannot_be_written_after_the_result_then_the_result_is_removed_too(
    local_world: tuple[World, Tmpfs, Processor, RedactorClient],
) -> None:
    """A result without its report would be half a publication: it is deleted again."""
    _, disk, processor, client = local_world
    tenant = "halfway"
    message = _queued(client, tenant, _png())
    locked = disk.path / keys.REPORTS / tenant
    locked.mkdir(parents=True)
    immutable(locked)

    with pytest.raises(StorageError, match="Operation not permitted"):
        processor.process(message)

    assert _objects(client.storage, keys.RESULTS, tenant) == []
    assert _objects(client.storage, keys.REPORTS, tenant) == []
    assert _temp_files(disk.path) == []


def test_given_disk_full_then_processor_raises_storage_error_and_leaves_no_temp_file(
    local_world: tuple[World, Tmpfs, Processor, RedactorClient],
) -> None:
    _, disk, processor, client = local_world
    tenant = "enospc"
    message = _queued(client, tenant, _png())
    disk.fill()

    with pytest.raises(StorageError, match="No space left on device"):
        processor.process(message)

    assert _objects(client.storage, keys.RESULTS, tenant) == []
    assert _temp_files(disk.path) == []


# --- The command line on a full output disk ---------------------------------------------------


@pytest.fixture
def cli_inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for number, image in enumerate(small_face_images(width=640)):
        (folder / f"photo{number}.jpg").write_bytes(image)
    return folder


def _redact(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "redactor", "redact", *map(str, args)]
    argv += ["--no-faces", "--text", "off", "--no-codes"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_given_output_disk_fills_up_then_each_file_fails_clearly_and_no_part_file_is_left(
    cli_inputs: Path, tmp_path: Path, tmpfs: Callable[[Path, str], Tmpfs]
) -> None:
    out = tmpfs(tmp_path / "out", "256k")
    out.fill()
    report = tmp_path / "report.json"

    result = _redact(cli_inputs, "--out", out.path, "--report", report)

    assert result.returncode == 1, result.stderr
    files = json.loads(report.read_text())["files"]
    assert [f["error_code"] for f in files] == ["write_failed"] * len(files)
    assert all("No space left on device" in f["error"] for f in files)
    assert "No space left on device" in result.stderr
    assert sorted(p.name for p in out.path.rglob("*")) == ["ballast"]  # no .part file


def test_given_report_cannot_be_written_then_the_cli_says_so_and_leaves_no_empty_report(
    cli_inputs: Path, tmp_path: Path, tmpfs: Callable[[Path, str], Tmpfs]
) -> None:
    out = tmpfs(tmp_path / "out", "64k")
    out.fill()

    result = _redact(cli_inputs, "--out", out.path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "could not write the report" in result.stderr
    assert "redactor-report.json" in result.stderr
    assert not (out.path / "redactor-report.json").exists()

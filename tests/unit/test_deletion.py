"""One deletion against an in-memory record store and a real folder, storage keys, scratch
folders, and what the retention core may import."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from redactor.audit import AuditAction, AuditEvent, ObjectKind, Reason
from redactor.errors import StorageError
from redactor.jobs import (
    AuditedChange,
    JobRecord,
)
from redactor.retention import (
    Deleter,
    DueItem,
    Outcome,
    Target,
    pending,
)
from redactor.service import scratch
from redactor.storage import LocalStorage, keys
from tests.unit.retention_records import (
    DAY,
    FIVE_MIN,
    JOB_ID,
    T0,
    failed,
    new,
)

# --- one deletion, against an in-memory store and a real folder ---


class MemoryRecords:
    """The two JobStore methods a Deleter uses, plus what it committed."""

    def __init__(self, record: JobRecord) -> None:
        self.records = {record.job_id: record}
        self.events: list[AuditEvent] = []

    def get(self, job_id: str) -> JobRecord | None:
        return self.records.get(job_id)

    def update_audited(self, job_id: str, change: AuditedChange) -> JobRecord | None:
        outcome = change(self.records[job_id])
        if outcome is None:
            return None
        self.records[job_id] = outcome[0]
        self.events += outcome[1]
        return outcome[0]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def stored(tmp_path: Path, record: JobRecord) -> LocalStorage:
    storage = LocalStorage(tmp_path / "store")
    storage.put(record.original_key, b"original bytes")
    for key in (record.result_key, record.report_key):
        if key is not None:
            storage.put(key, b"output bytes")
    return storage


def deleter(storage: LocalStorage, records: MemoryRecords, clock: Clock) -> Deleter:
    return Deleter(storage, records, clock, "host:1")  # type: ignore[arg-type]


def test_given_deadline_not_reached_then_nothing_is_touched(tmp_path: Path) -> None:
    record = new()
    storage, records = stored(tmp_path, record), MemoryRecords(record)
    clock = Clock(record.original_deadline - timedelta(microseconds=1))

    outcome = deleter(storage, records, clock).delete_if_due(DueItem(Target.ORIGINAL, JOB_ID))

    assert outcome is Outcome.NOT_DUE
    assert storage.exists(record.original_key)
    assert records.events == []


def test_given_deadline_reached_then_deleted_recorded_and_audited_once(tmp_path: Path) -> None:
    record = new()
    storage, records = stored(tmp_path, record), MemoryRecords(record)
    clock = Clock(record.original_deadline)  # now >= deadline: exactly at it counts
    remover = deleter(storage, records, clock)

    assert remover.delete_if_due(DueItem(Target.ORIGINAL, JOB_ID)) is Outcome.DELETED
    assert remover.delete_if_due(DueItem(Target.ORIGINAL, JOB_ID)) is Outcome.NOTHING

    assert not storage.exists(record.original_key)
    assert records.records[JOB_ID].original_deleted_at == clock.now
    assert records.events == [
        AuditEvent(
            AuditAction.DELETED,
            JOB_ID,
            "acme",
            ObjectKind.ORIGINAL,
            Reason.RETENTION,
            clock.now,
            "host:1",
            record.original_deadline,
        )
    ]


class FailingStorage(LocalStorage):
    def delete(self, key: str) -> bool:
        raise StorageError(f"could not delete {key}: Input/output error")


def test_given_storage_error_then_it_propagates_and_the_item_stays_due(tmp_path: Path) -> None:
    record = new()
    stored(tmp_path, record)
    storage, records = FailingStorage(tmp_path / "store"), MemoryRecords(record)

    with pytest.raises(StorageError):
        deleter(storage, records, Clock(T0 + 2 * DAY)).delete_if_due(
            DueItem(Target.ORIGINAL, JOB_ID)
        )

    assert records.records[JOB_ID] == record
    assert Target.ORIGINAL in pending(records.records[JOB_ID])
    assert records.events == []


def test_given_a_failed_jobs_report_then_it_is_deleted_from_storage_like_any_report(
    tmp_path: Path,
) -> None:
    record = failed(new(), FIVE_MIN, True)
    storage, records = stored(tmp_path, record), MemoryRecords(record)
    assert record.report_key is not None and storage.exists(record.report_key)

    outcome = deleter(storage, records, Clock(FIVE_MIN + DAY)).delete_if_due(
        DueItem(Target.RESULT, JOB_ID)
    )

    assert outcome is Outcome.DELETED
    assert not storage.exists(record.report_key)
    assert records.records[JOB_ID].result_deleted_at == FIVE_MIN + DAY
    assert [(e.kind, e.reason) for e in records.events] == [(ObjectKind.REPORT, Reason.RETENTION)]
    assert storage.exists(record.original_key)  # its own deadline has not come


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        (f"originals/acme/{JOB_ID}", ("original", "acme", JOB_ID)),
        (f"results/acme/{JOB_ID}.jpg", ("result", "acme", JOB_ID)),
        (f"reports/a-b/{JOB_ID}.json", ("report", "a-b", JOB_ID)),
    ],
)
def test_storage_keys_parse_back_to_kind_tenant_and_upload(
    key: str, parts: tuple[str, ...]
) -> None:
    assert keys.parse_key(key) == parts


def test_parsing_a_key_outside_the_layout_is_refused() -> None:
    with pytest.raises(keys.InvalidKey):
        keys.parse_key("originals/acme/../../etc/passwd")


# --- scratch folders ---


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_reap_removes_folders_of_dead_processes_only(tmp_path: Path) -> None:
    node = scratch.node_folder(tmp_path, "w1@host")
    mine, gone = scratch.process_folder(node), scratch.process_folder(node, dead_pid())
    for folder in (mine, gone):
        (folder / "job-x").mkdir(parents=True)
        (folder / "job-x" / "decoded.tmp").write_bytes(b"pixels")

    assert scratch.reap_dead(node) == [gone]
    assert mine.is_dir() and not gone.exists()


def test_clear_empties_the_node_folder(tmp_path: Path) -> None:
    node = scratch.node_folder(tmp_path, "w1@host")
    (node / str(os.getpid()) / "job-x").mkdir(parents=True)
    scratch.clear(node)
    assert node.is_dir() and list(node.iterdir()) == []


@pytest.mark.parametrize(("name", "folder"), [("w1@host", "w1@host"), ("a/../b", "a_.._b")])
def test_node_folder_names_are_safe(name: str, folder: str) -> None:
    assert scratch.node_folder(Path("/s"), name) == Path("/s") / folder


def test_retention_core_imports_no_redis_or_celery() -> None:
    code = (
        "import sys, redactor.retention, redactor.audit;"
        "print(sorted({'celery', 'redis', 'fastapi', 'kombu'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_up_runs_a_sweeper_and_beat_beside_redis_and_the_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from redactor.cli.main import cli
    from redactor.service.stack import Stack

    started: list[Stack] = []
    monkeypatch.setattr(Stack, "run", lambda self, poll=0.5: started.append(self))

    result = CliRunner().invoke(
        cli, ["up", "--data-dir", str(tmp_path), "-c", "1"], env={"REDACTOR_DEV_MODE": "1"}
    )

    assert result.exit_code == 0, result.output
    worker, sweeper, beat = (" ".join(child.argv) for child in started[0].children)
    assert "worker" in worker and "--queues redactor " in f"{worker} "
    assert "--pool solo" in sweeper and "--queues redactor-retention" in sweeper
    assert f"beat --schedule {tmp_path / 'celerybeat-schedule'}" in beat
    stack = started[0]
    assert [child.name for child in stack.children] == ["worker", "sweeper", "beat"]
    url_file = tmp_path / "redis-url"
    assert stack.redis.password and url_file.read_text().strip() == stack.redis.url
    assert url_file.stat().st_mode & 0o777 == 0o600
    assert stack.redis.password not in result.output
    assert {child.env["REDACTOR_REDIS_URL"] for child in stack.children if child.env} == {
        stack.redis.url
    }

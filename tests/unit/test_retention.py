"""Retention rules: windows and limits, deadlines, reasons, tombstones, and one deletion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redactor.audit import AuditAction, AuditEvent, ObjectKind, Reason
from redactor.errors import StorageError
from redactor.jobs import (
    AuditedChange,
    Failure,
    JobRecord,
    JobResult,
    JobState,
    apply_result,
    apply_transition,
)
from redactor.options import PipelineOptions
from redactor.retention import (
    Deleter,
    DueItem,
    Outcome,
    RetentionLimitExceeded,
    RetentionPolicy,
    Target,
    Windows,
    apply_deletion,
    objects_for,
    pending,
    reason_for,
    settled_at,
)
from redactor.service import scratch
from redactor.service.redis_fields import from_fields, to_fields
from redactor.storage import LocalStorage, keys
from redactor.task_message import InvalidTaskMessage, TaskMessage, parse_task_message

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
JOB_ID = "AbCdEfGhIjKlMnOpQrStU_"
POLICY = RetentionPolicy(
    defaults=Windows(24 * HOUR, 30 * DAY),
    limits={"short": Windows(2 * HOUR, DAY), "long": Windows(72 * HOUR, 90 * DAY)},
    pending_limit=HOUR,
)
S, T = JobState, Target

# --- policy ---


@pytest.mark.parametrize(
    ("tenant", "original", "result", "expected"),
    [
        ("acme", None, None, Windows(24 * HOUR, 30 * DAY)),  # not listed: the defaults
        ("acme", HOUR, DAY, Windows(HOUR, DAY)),  # shorter is always allowed
        ("acme", timedelta(0), None, Windows(timedelta(0), 30 * DAY)),  # window 0
        ("short", None, None, Windows(2 * HOUR, DAY)),  # defaults capped by the maximum
        ("long", None, None, Windows(24 * HOUR, 30 * DAY)),  # defaults, not the maximum
        ("long", 72 * HOUR, 90 * DAY, Windows(72 * HOUR, 90 * DAY)),  # up to the maximum
    ],
)
def test_policy_resolves_windows_per_upload(
    tenant: str, original: timedelta | None, result: timedelta | None, expected: Windows
) -> None:
    assert POLICY.resolve(tenant, original, result) == expected


@pytest.mark.parametrize(
    ("tenant", "original", "result", "complaint"),
    [
        ("acme", 25 * HOUR, None, "original retention asked for (90000 s) is over"),
        ("short", None, 2 * DAY, "result retention asked for (172800 s) is over"),
        ("long", 73 * HOUR, None, "over this tenant's maximum (259200 s)"),
        ("acme", -HOUR, None, "original retention must be 0 s"),
        ("acme", None, timedelta(0), "result retention must be more than 0 s"),
    ],
)
def test_policy_refuses_windows_over_the_tenant_maximum(
    tenant: str, original: timedelta | None, result: timedelta | None, complaint: str
) -> None:
    with pytest.raises(RetentionLimitExceeded, match="retention") as caught:
        POLICY.resolve(tenant, original, result)
    assert complaint in str(caught.value)
    assert caught.value.code == "retention_limit"


def test_longest_windows_cover_every_tenant_and_the_pending_limit() -> None:
    assert POLICY.longest() == Windows(72 * HOUR, 90 * DAY)
    pending_longest = replace(POLICY, pending_limit=100 * HOUR)
    assert pending_longest.longest().original == 100 * HOUR


# --- records and their deadlines ---


def new(original: timedelta = 24 * HOUR, result: timedelta | None = 30 * DAY) -> JobRecord:
    record = JobRecord.new(
        JOB_ID,
        "acme",
        PipelineOptions(text="off", deny_terms=("Jane Doe",)),
        now=T0,
        original_retention=original,
        result_retention=result,
        pending_limit=HOUR,
    )
    queued = apply_transition(record, S.QUEUED, expected={S.RECEIVED}, now=T0)
    return apply_transition(queued, S.PROCESSING, expected={S.QUEUED}, now=T0)


def done(record: JobRecord, at: datetime) -> JobRecord:
    result = JobResult(
        f"results/acme/{JOB_ID}.jpg", f"reports/acme/{JOB_ID}.json", "jpeg", {"face": 1}
    )
    return apply_result(record, result, attempt=1, now=at, result_retention=30 * DAY)


def failed(record: JobRecord, at: datetime, report: bool) -> JobRecord:
    """Failed, with the pipeline's report stored if ``report``."""
    report_key = f"reports/acme/{JOB_ID}.json" if report else None
    failure = Failure("corrupt_image", "truncated", report_key=report_key)
    return apply_transition(
        record, S.FAILED, expected={S.PROCESSING}, now=at, failure=failure, result_retention=DAY
    )


def erased(record: JobRecord, at: datetime) -> JobRecord:
    return apply_transition(record, S.ERASED, expected=set(JobState), now=at)


FIVE_MIN = T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (new(), {T.ORIGINAL: T0 + 24 * HOUR}),
        (new(timedelta(0)), {T.ORIGINAL: T0 + HOUR}),  # window 0, unfinished: bounded
        (done(new(), FIVE_MIN), {T.ORIGINAL: T0 + 24 * HOUR, T.RESULT: FIVE_MIN + 30 * DAY}),
        (done(new(timedelta(0)), FIVE_MIN), {T.ORIGINAL: FIVE_MIN, T.RESULT: FIVE_MIN + 30 * DAY}),
        (failed(new(timedelta(0)), FIVE_MIN, False), {T.ORIGINAL: FIVE_MIN}),
        (
            failed(new(), FIVE_MIN, True),
            {T.ORIGINAL: T0 + 24 * HOUR, T.RESULT: FIVE_MIN + DAY},
        ),
        (replace(new(), original_deleted_at=T0), {}),
        (erased(new(), T0 + 2 * HOUR), {T.ORIGINAL: T0 + 2 * HOUR}),
        (  # erased after the original's deadline: that deadline still counts
            erased(done(new(), FIVE_MIN), T0 + 48 * HOUR),
            {T.ORIGINAL: T0 + 24 * HOUR, T.RESULT: T0 + 48 * HOUR},
        ),
    ],
)
def test_pending_deadlines(record: JobRecord, expected: dict[Target, datetime]) -> None:
    assert pending(record) == expected


def test_result_deleted_leaves_nothing_pending_for_it() -> None:
    record = apply_deletion(done(new(), FIVE_MIN), T.RESULT, T0 + 31 * DAY)
    assert record.result_deleted_at == T0 + 31 * DAY
    assert T.RESULT not in pending(record)
    assert record.result_key is not None  # an id-only key, kept to show what was deleted


def both_deleted(record: JobRecord, original_at: datetime, result_at: datetime) -> JobRecord:
    gone = apply_deletion(record, T.ORIGINAL, original_at)
    return apply_deletion(gone, T.RESULT, result_at) if T.RESULT in pending(gone) else gone


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (new(), None),  # running
        (replace(new(), original_deleted_at=T0), None),  # running, though it holds nothing
        (apply_deletion(done(new(), FIVE_MIN), T.ORIGINAL, T0 + DAY), None),  # result held
        (both_deleted(done(new(), FIVE_MIN), T0 + DAY, T0 + 31 * DAY), T0 + 31 * DAY),
        (both_deleted(failed(new(), FIVE_MIN, False), T0 + DAY, T0), T0 + DAY),
        (both_deleted(failed(new(), FIVE_MIN, True), T0 + DAY, FIVE_MIN + DAY), FIVE_MIN + DAY),
        (both_deleted(erased(done(new(), FIVE_MIN), T0 + HOUR), T0 + HOUR, T0 + HOUR), T0 + HOUR),
    ],
    ids=["running", "running-empty", "result-held", "done", "failed", "failed-report", "erased"],
)
def test_a_record_settles_at_its_last_deletion_once_finished(
    record: JobRecord, expected: datetime | None
) -> None:
    assert settled_at(record) == expected


@pytest.mark.parametrize(
    ("record", "target", "reason"),
    [
        (new(), T.ORIGINAL, Reason.RETENTION),
        (new(timedelta(0)), T.ORIGINAL, Reason.RETENTION),  # never finished: its bound
        (done(new(timedelta(0)), FIVE_MIN), T.ORIGINAL, Reason.WINDOW_0),
        (failed(new(timedelta(0)), FIVE_MIN, False), T.ORIGINAL, Reason.FAILED_JOB),
        (done(new(timedelta(0)), FIVE_MIN), T.RESULT, Reason.RETENTION),
        (erased(new(), T0), T.ORIGINAL, Reason.ERASURE),
    ],
)
def test_reasons(record: JobRecord, target: Target, reason: Reason) -> None:
    assert reason_for(record, target) is reason


def test_objects_of_each_target() -> None:
    assert objects_for(new(), T.ORIGINAL) == [(ObjectKind.ORIGINAL, f"originals/acme/{JOB_ID}")]
    assert objects_for(new(), T.RESULT) == []
    assert objects_for(done(new(), FIVE_MIN), T.RESULT) == [
        (ObjectKind.RESULT, f"results/acme/{JOB_ID}.jpg"),
        (ObjectKind.REPORT, f"reports/acme/{JOB_ID}.json"),
    ]
    failed_with_report = failed(new(), FIVE_MIN, True)
    assert objects_for(failed_with_report, T.RESULT) == [
        (ObjectKind.REPORT, f"reports/acme/{JOB_ID}.json")
    ]


def test_window_0_record_is_flagged_and_bounded_by_the_pending_limit() -> None:
    record = new(timedelta(0))
    assert record.original_until_finished
    assert record.original_deadline == T0 + HOUR


def test_erasure_leaves_a_tombstone_without_personal_parts() -> None:
    record = replace(new(), counts={"face": 2})
    tomb = erased(failed(record, FIVE_MIN, True), T0 + HOUR)
    assert tomb.state is S.ERASED
    assert (tomb.options, tomb.counts, tomb.failure_code, tomb.failure_message) == (
        {},
        {},
        None,
        None,
    )
    assert (tomb.job_id, tomb.tenant, tomb.original_key) == (
        record.job_id,
        record.tenant,
        record.original_key,
    )
    assert tomb.timestamps[S.ERASED] == T0 + HOUR
    assert "Jane Doe" not in json.dumps(to_fields(tomb))


def test_fields_round_trip_with_retention_fields() -> None:
    record = replace(
        done(new(timedelta(0), result=2 * DAY), FIVE_MIN),
        original_deleted_at=FIVE_MIN,
        result_deleted_at=T0 + 3 * DAY,
    )
    fields = to_fields(record)
    assert fields["original_until_finished"] == "1"
    assert from_fields(fields) == record


# --- task messages ---


def message(**changes: object) -> str:
    data: dict[str, object] = {
        "v": 1,
        "job_id": JOB_ID,
        "tenant": "acme",
        "original_key": f"originals/acme/{JOB_ID}",
    }
    data.update(changes)
    return json.dumps(data)


def test_message_carries_optional_windows_in_seconds() -> None:
    parsed = parse_task_message(message(original_retention=0, result_retention=3600))
    assert (parsed.original_retention, parsed.result_retention) == (0, 3600)
    assert parse_task_message(message()).original_retention is None


@pytest.mark.parametrize(
    "changes",
    [{"original_retention": -1}, {"result_retention": 0}, {"original_retention": "60"}],
)
def test_message_with_bad_window_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidTaskMessage, match="retention"):
        parse_task_message(message(**changes))


def test_message_for_a_job_rounds_windows_up_to_whole_seconds() -> None:
    built = TaskMessage.for_job(
        JOB_ID, "acme", PipelineOptions(), original_retention=timedelta(seconds=1.2)
    )
    assert built.original_retention == 2
    assert built.result_retention is None


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

    outcome = deleter(storage, records, clock).delete_if_due(DueItem(T.ORIGINAL, JOB_ID))

    assert outcome is Outcome.NOT_DUE
    assert storage.exists(record.original_key)
    assert records.events == []


def test_given_deadline_reached_then_deleted_recorded_and_audited_once(tmp_path: Path) -> None:
    record = new()
    storage, records = stored(tmp_path, record), MemoryRecords(record)
    clock = Clock(record.original_deadline)  # now >= deadline: exactly at it counts
    remover = deleter(storage, records, clock)

    assert remover.delete_if_due(DueItem(T.ORIGINAL, JOB_ID)) is Outcome.DELETED
    assert remover.delete_if_due(DueItem(T.ORIGINAL, JOB_ID)) is Outcome.NOTHING

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
        deleter(storage, records, Clock(T0 + 2 * DAY)).delete_if_due(DueItem(T.ORIGINAL, JOB_ID))

    assert records.records[JOB_ID] == record
    assert T.ORIGINAL in pending(records.records[JOB_ID])
    assert records.events == []


def test_given_a_failed_jobs_report_then_it_is_deleted_from_storage_like_any_report(
    tmp_path: Path,
) -> None:
    record = failed(new(), FIVE_MIN, True)
    storage, records = stored(tmp_path, record), MemoryRecords(record)
    assert record.report_key is not None and storage.exists(record.report_key)

    outcome = deleter(storage, records, Clock(FIVE_MIN + DAY)).delete_if_due(
        DueItem(T.RESULT, JOB_ID)
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

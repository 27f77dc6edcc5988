"""Retention rules: windows and limits, deadlines, reasons, tombstones, and one deletion."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from redactor.audit import ObjectKind, Reason
from redactor.jobs import (
    JobRecord,
    JobState,
)
from redactor.options import PipelineOptions
from redactor.retention import (
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
from redactor.service.redis_fields import from_fields, to_fields
from redactor.task_message import InvalidTaskMessage, TaskMessage, parse_task_message
from tests.unit.retention_records import (
    DAY,
    FIVE_MIN,
    HOUR,
    JOB_ID,
    T0,
    done,
    erased,
    failed,
    new,
)

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

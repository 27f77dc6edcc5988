"""Job records: the state machine table, compare-and-set rules, serialisation, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from redactor.jobs import (
    ALLOWED,
    Failure,
    IllegalTransition,
    JobRecord,
    JobResult,
    JobState,
    TransitionConflict,
    apply_result,
    apply_transition,
)
from redactor.options import PipelineOptions
from redactor.service.redis_fields import from_fields, to_fields
from redactor.task_message import (
    InvalidTaskMessage,
    TaskMessage,
    job_id_for,
    message_hint,
    parse_task_message,
)

JOB_ID = "AbCdEfGhIjKlMnOpQrStU_"
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = T0 + timedelta(seconds=7)

S = JobState
#: Every (from, to) pair the state machine allows; everything else is illegal.
LEGAL = {
    (S.RECEIVED, S.QUEUED),
    (S.RECEIVED, S.FAILED),
    (S.RECEIVED, S.ERASED),
    (S.QUEUED, S.PROCESSING),
    (S.QUEUED, S.FAILED),
    (S.QUEUED, S.ERASED),
    (S.PROCESSING, S.PROCESSING),
    (S.PROCESSING, S.DONE),
    (S.PROCESSING, S.FAILED),
    (S.PROCESSING, S.ERASED),
    (S.DONE, S.ERASED),
    (S.FAILED, S.ERASED),
}
FAILURE = Failure("corrupt_image", "the JPEG data ends early")


def record_in(state: JobState, attempts: int = 0) -> JobRecord:
    record = JobRecord.new(
        JOB_ID, "acme", PipelineOptions(text="off"), now=T0, original_retention=timedelta(hours=24)
    )
    return replace(record, state=state, attempts=attempts)


def test_table_matches_the_documented_machine() -> None:
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == LEGAL


@pytest.mark.parametrize("source", list(JobState))
@pytest.mark.parametrize("target", list(JobState))
def test_every_transition_is_allowed_or_refused_per_table(
    source: JobState, target: JobState
) -> None:
    record = record_in(source)
    failure = FAILURE if target is S.FAILED else None
    if (source, target) in LEGAL:
        moved = apply_transition(record, target, expected={source}, now=LATER, failure=failure)
        assert moved.state is target
        assert moved.timestamps[target] == LATER
    else:
        with pytest.raises(IllegalTransition):
            apply_transition(record, target, expected={source}, now=LATER, failure=failure)


def test_new_record_is_received_with_deadline_and_layout_key() -> None:
    record = JobRecord.new(
        JOB_ID, "acme", PipelineOptions(), now=T0, original_retention=timedelta(hours=24)
    )
    assert record.state is S.RECEIVED
    assert record.timestamps == {S.RECEIVED: T0}
    assert record.original_deadline == T0 + timedelta(hours=24)
    assert record.original_key == f"originals/acme/{JOB_ID}"
    assert record.attempts == 0
    assert not record.finished


def test_given_unexpected_state_then_conflict_carries_current_record() -> None:
    record = record_in(S.DONE)
    with pytest.raises(TransitionConflict) as caught:
        apply_transition(record, S.PROCESSING, expected={S.QUEUED, S.PROCESSING}, now=LATER)
    assert caught.value.current is record


def test_claim_counts_attempts_and_reclaim_needs_the_current_attempt() -> None:
    claimed = apply_transition(record_in(S.QUEUED), S.PROCESSING, expected={S.QUEUED}, now=T0)
    assert claimed.attempts == 1
    reclaimed = apply_transition(
        claimed, S.PROCESSING, expected={S.QUEUED, S.PROCESSING}, attempt=1, now=LATER
    )
    assert reclaimed.attempts == 2
    assert reclaimed.timestamps[S.PROCESSING] == LATER
    with pytest.raises(TransitionConflict):  # a second worker that read attempt 1 loses
        apply_transition(reclaimed, S.PROCESSING, expected={S.PROCESSING}, attempt=1, now=LATER)


def test_failed_requires_a_reason_and_only_failed_takes_one() -> None:
    processing = record_in(S.PROCESSING, attempts=1)
    with pytest.raises(IllegalTransition):
        apply_transition(processing, S.FAILED, expected={S.PROCESSING}, now=LATER)
    with pytest.raises(IllegalTransition):
        apply_transition(processing, S.DONE, expected={S.PROCESSING}, now=LATER, failure=FAILURE)


def test_failure_records_code_message_and_report_key_and_drops_the_options() -> None:
    failure = Failure("corrupt_image", "truncated", report_key="reports/acme/x.json")
    processing = record_in(S.PROCESSING)
    assert processing.options
    failed = apply_transition(
        processing, S.FAILED, expected={S.PROCESSING}, now=LATER, failure=failure
    )
    assert (failed.failure_code, failed.failure_message) == ("corrupt_image", "truncated")
    assert failed.report_key == "reports/acme/x.json"
    assert failed.options == {}
    assert failed.finished


def test_result_publishes_keys_counts_and_result_deadline() -> None:
    result = JobResult("results/acme/x.jpg", "reports/acme/x.json", "jpeg", {"face": 2})
    done = apply_result(
        record_in(S.PROCESSING, attempts=2),
        result,
        attempt=2,
        now=LATER,
        result_retention=timedelta(days=30),
    )
    assert done.state is S.DONE
    assert done.result_key == "results/acme/x.jpg"
    assert done.report_key == "reports/acme/x.json"
    assert done.counts == {"face": 2}
    assert done.options == {}
    assert done.result_deadline == LATER + timedelta(days=30)


@pytest.mark.parametrize(("state", "attempts"), [(S.PROCESSING, 3), (S.ERASED, 2), (S.QUEUED, 2)])
def test_result_from_a_stale_attempt_or_erased_job_is_refused(
    state: JobState, attempts: int
) -> None:
    result = JobResult("results/acme/x.jpg", "reports/acme/x.json", "jpeg", {})
    with pytest.raises(TransitionConflict):
        apply_result(
            record_in(state, attempts),
            result,
            attempt=2,
            now=LATER,
            result_retention=timedelta(days=1),
        )


def test_fields_round_trip_and_are_plain_strings() -> None:
    record = apply_result(
        apply_transition(record_in(S.QUEUED), S.PROCESSING, expected={S.QUEUED}, now=T0),
        JobResult("results/acme/x.jpg", "reports/acme/x.json", "jpeg", {"face": 2}),
        attempt=1,
        now=LATER,
        result_retention=timedelta(days=30),
    )
    fields = to_fields(record)
    assert all(isinstance(v, str) for v in fields.values())
    assert fields["state"] == "done"
    assert fields["at_done"] == LATER.isoformat()
    assert "failure_code" not in fields
    assert "options" not in fields  # a finished job keeps no options
    assert fields["counts"] == '{"face":2}'
    assert from_fields(fields) == record
    unfinished = record_in(S.QUEUED)
    assert from_fields(to_fields(unfinished)) == unfinished


# --- task messages ---


def valid_message(**changes: object) -> str:
    data: dict[str, object] = {
        "v": 1,
        "job_id": JOB_ID,
        "tenant": "acme",
        "original_key": f"originals/acme/{JOB_ID}",
        "options": {"text": "off", "codes": False},
    }
    data.update(changes)
    return json.dumps(data)


def test_valid_message_parses_with_options() -> None:
    message = parse_task_message(valid_message())
    assert message.job_id == JOB_ID
    assert message.options == PipelineOptions(text="off", codes=False)


def test_message_without_options_means_worker_defaults() -> None:
    data = json.loads(valid_message())
    del data["options"]
    assert parse_task_message(json.dumps(data)).options is None


def test_message_built_for_a_job_round_trips() -> None:
    message = TaskMessage.for_job(JOB_ID, "acme", PipelineOptions(faces=False))
    assert parse_task_message(message.model_dump_json()) == message


@pytest.mark.parametrize(("keep_icc", "icc"), [(True, "keep"), (False, "drop")])
def test_given_old_message_with_keep_icc_then_it_means_keep_or_drop(
    keep_icc: bool, icc: str
) -> None:
    message = parse_task_message(valid_message(options={"text": "off", "keep_icc": keep_icc}))
    assert message.options is not None and message.options.icc == icc
    assert "keep_icc" not in message.options.model_dump()


def test_given_keep_icc_contradicting_icc_or_not_a_boolean_then_message_refused_naming_it() -> None:
    with pytest.raises(InvalidTaskMessage, match="keep_icc=true contradicts icc"):
        parse_task_message(valid_message(options={"keep_icc": True, "icc": "drop"}))
    with pytest.raises(InvalidTaskMessage, match=r"options\.keep_icc"):
        parse_task_message(valid_message(options={"keep_icc": "true"}))
    agreeing = parse_task_message(valid_message(options={"keep_icc": False, "icc": "drop"}))
    assert agreeing.options is not None and agreeing.options.icc == "drop"


def test_given_stored_options_with_keep_icc_then_they_still_load() -> None:
    stored = PipelineOptions().model_dump(mode="json") | {"keep_icc": True}
    del stored["icc"]
    assert PipelineOptions.model_validate(stored).icc == "keep"
    assert PipelineOptions().icc == "sanitise"


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ("{not json", "Invalid JSON"),
        ("[]", "message"),
        (valid_message(v=2), "v:"),
        (valid_message(v="1"), "v:"),
        (valid_message(job_id="../../etc/passwd"), "job_id"),
        (valid_message(tenant="Acme"), "tenant"),
        (valid_message(original_key=f"originals/other/{JOB_ID}"), "original_key"),
        (valid_message(extra="x"), "extra"),
        (valid_message(options={"faces": "yes"}), "options.faces"),
        (valid_message(options={"unknown": 1}), "options.unknown"),
        (valid_message(options={"jpeg_quality": "95"}), "options.jpeg_quality"),
        ({"v": 1}, "JSON text"),
        (None, "JSON text"),
    ],
)
def test_invalid_messages_are_refused_with_a_reason(payload: object, complaint: str) -> None:
    with pytest.raises(InvalidTaskMessage, match="invalid task message") as caught:
        parse_task_message(payload)
    assert complaint in str(caught.value)
    assert caught.value.code == "invalid_message"


def test_reason_for_invalid_message_never_echoes_values() -> None:
    secret = "jane.doe@example.com"
    with pytest.raises(InvalidTaskMessage) as caught:
        parse_task_message(valid_message(options={"deny_terms": secret}, tenant=secret))
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("payload", "task_id", "expected"),
    [
        (valid_message(v=9), None, JOB_ID),
        ("{bad json", JOB_ID, JOB_ID),
        ("{bad json", "c0ffee00-0000-0000-0000-000000000000", None),
        (valid_message(job_id="../x"), None, None),
        (42, JOB_ID, JOB_ID),
    ],
)
def test_job_id_for_invalid_messages_uses_only_valid_ids(
    payload: object, task_id: str | None, expected: str | None
) -> None:
    assert job_id_for(payload, task_id) == expected


def test_message_hint_keeps_only_valid_ids() -> None:
    assert message_hint(valid_message(v=2)) == (JOB_ID, "acme")
    assert message_hint(valid_message(tenant="../x")) == (JOB_ID, None)
    assert message_hint("[1, 2]") == (None, None)


def test_core_modules_import_no_celery_redis_or_fastapi() -> None:
    code = (
        "import sys, redactor.jobs, redactor.storage;"
        "print(sorted({'celery', 'redis', 'fastapi', 'kombu'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

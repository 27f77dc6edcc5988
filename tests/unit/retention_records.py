"""Job records at each point of their life, at fixed times, for the retention unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redactor.jobs import (
    Failure,
    JobRecord,
    JobResult,
    JobState,
    apply_result,
    apply_transition,
)
from redactor.options import PipelineOptions

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
JOB_ID = "AbCdEfGhIjKlMnOpQrStU_"
S = JobState


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

"""The job store and the processor in this process, against a real redis-server and
local storage: claims raced by many workers, redelivery, failures, erasure and take-over
while a task runs, and a publication whose reply was lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from redactor.clock import utcnow
from redactor.jobs import JobRecord, JobState, TransitionConflict
from redactor.pipeline import RedactionResult
from redactor.report import Report
from redactor.service.client import RedactorClient
from redactor.service.processor import PipelineCache, Processor
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.storage import keys
from redactor.task_message import TaskMessage
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.integration.queue_records import create_queued_record, tenant

pytestmark = [pytest.mark.redis, pytest.mark.slow]


# --- the job store itself ---


@pytest.mark.timeout(60)
def test_given_many_workers_racing_to_claim_then_exactly_one_wins(queue_env: QueueEnv) -> None:
    settings = queue_env.settings()
    store = RedisJobStore(connect(settings.redis_url), result_retention=settings.result_retention)
    job_id = keys.new_upload_id()
    record = JobRecord.new(
        job_id, tenant(), FAST_OPTIONS, now=utcnow(), original_retention=settings.original_retention
    )
    assert store.create(record)
    assert not store.create(record)
    store.transition(job_id, JobState.QUEUED, expected={JobState.RECEIVED})
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        try:
            store.transition(
                job_id,
                JobState.PROCESSING,
                expected={JobState.QUEUED, JobState.PROCESSING},
                attempt=0,
            )
            outcomes.append("won")
        except TransitionConflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    final = store.get(job_id)
    assert final is not None and final.attempts == 1
    assert [r.job_id for r in store.list_by_tenant(record.tenant)] == [job_id]


# --- the processor itself, in this process, against real Redis and local storage ---


class FakePipeline:
    """Returns a fixed result; ``during_run`` lets a test change the world mid-task."""

    def __init__(self, result: RedactionResult, during_run: Callable[[], None] = lambda: None):
        self.result, self.during_run = result, during_run
        self.runs = 0

    def run(self, data: bytes) -> RedactionResult:
        self.runs += 1
        self.during_run()
        return self.result


REDACTED = RedactionResult(Report(status="redacted"), output=b"redacted bytes", output_format="png")
FAILED = RedactionResult(
    Report(status="failed", error_code="corrupt_image", error="truncated"), None, None
)


def make_processor(
    env: QueueEnv, pipeline: FakePipeline, jobs: Callable[[Any], Any] = lambda jobs: jobs
) -> tuple[Processor, RedactorClient]:
    """A processor on ``env``'s stores; ``jobs`` may wrap its job store."""
    client = env.client()
    processor = Processor(
        storage=client.storage,
        jobs=jobs(client.jobs),
        pipelines=PipelineCache(lambda options: pipeline),
        default_options=FAST_OPTIONS,
        original_retention=client.settings.original_retention,
        scratch_dir=env.root / "scratch",
    )
    return processor, client


def queued_message(client: RedactorClient, tenant_id: str) -> tuple[str, str]:
    job_id = create_queued_record(client, tenant_id, store_original=True)
    return job_id, TaskMessage.for_job(job_id, tenant_id, FAST_OPTIONS).model_dump_json()


def test_given_finished_job_when_task_is_redelivered_then_nothing_runs_again(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    pipeline = FakePipeline(REDACTED)
    processor, client = make_processor(isolated_env(), pipeline)
    job_id, message = queued_message(client, tenant())

    assert processor.process(message) == "done"
    assert processor.process(message) == "skipped"

    assert pipeline.runs == 1
    record = client.status(job_id)
    assert (record.state, record.attempts) == (JobState.DONE, 1)
    assert client.result(job_id) == b"redacted bytes"


def test_given_pipeline_fails_then_only_its_report_is_written_and_the_job_says_why(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    processor, client = make_processor(isolated_env(), FakePipeline(FAILED))
    tenant_id = tenant()
    job_id, message = queued_message(client, tenant_id)

    assert processor.process(message) == "failed"

    record = client.status(job_id)
    assert (record.failure_code, record.failure_message) == ("corrupt_image", "truncated")
    assert list(client.storage.list(f"results/{tenant_id}/")) == []
    assert [o.key for o in client.storage.list(f"reports/{tenant_id}/")] == [record.report_key]
    assert client.report(job_id)["error_code"] == "corrupt_image"


def test_given_job_erased_while_running_then_its_fresh_output_is_deleted(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    env = isolated_env()
    tenant_id = tenant()
    holder: dict[str, str] = {}
    pipeline = FakePipeline(
        REDACTED,
        during_run=lambda: client.jobs.transition(
            holder["job_id"], JobState.ERASED, expected={JobState.PROCESSING}
        ),
    )
    processor, client = make_processor(env, pipeline)
    holder["job_id"], message = queued_message(client, tenant_id)

    assert processor.process(message) == "skipped"

    assert client.status(holder["job_id"]).state is JobState.ERASED
    assert list(client.storage.list(f"results/{tenant_id}/")) == []
    assert list(client.storage.list(f"reports/{tenant_id}/")) == []


def test_given_another_attempt_took_over_then_the_stale_one_does_not_publish(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    env = isolated_env()
    holder: dict[str, str] = {}

    def take_over() -> None:  # a redelivered copy claims the job meanwhile
        client.jobs.transition(
            holder["job_id"], JobState.PROCESSING, expected={JobState.PROCESSING}, attempt=1
        )

    processor, client = make_processor(env, FakePipeline(REDACTED, during_run=take_over))
    holder["job_id"], message = queued_message(client, tenant())

    assert processor.process(message) == "skipped"

    record = client.status(holder["job_id"])
    assert (record.state, record.attempts) == (JobState.PROCESSING, 2)


class ReplyLostJobs:
    """A job store whose ``set_result`` write lands but whose reply is lost, so the
    store's retry runs it again and meets the record it just wrote (as redis-py's
    connection retry does when Redis dies after executing the transaction)."""

    def __init__(self, jobs: Any):
        self._jobs = jobs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jobs, name)

    def set_result(self, job_id: str, result: Any, *, attempt: int) -> Any:
        self._jobs.set_result(job_id, result, attempt=attempt)
        return self._jobs.set_result(job_id, result, attempt=attempt)


def test_given_the_reply_to_the_publication_is_lost_then_the_job_is_done_and_kept(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    env = isolated_env()
    processor, client = make_processor(env, FakePipeline(REDACTED), jobs=ReplyLostJobs)
    job_id, message = queued_message(client, tenant())

    assert processor.process(message) == "done"

    record = client.status(job_id)
    assert (record.state, record.attempts) == (JobState.DONE, 1)
    assert client.result(job_id) == b"redacted bytes"


def test_given_an_unknown_ocr_precision_then_the_queued_job_fails_saying_why(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    pipeline = FakePipeline(REDACTED)
    processor, client = make_processor(isolated_env(), pipeline)
    job_id, message = queued_message(client, tenant())
    bad = message.replace('"ocr_precision":"int8-proposal"', '"ocr_precision":"int4"')
    assert bad != message

    assert processor.process(bad) == "failed"

    record = client.status(job_id)
    assert pipeline.runs == 0
    assert (record.state, record.failure_code) == (JobState.FAILED, "invalid_message")
    assert record.failure_message == (
        "invalid task message: options.ocr_precision: Input should be 'fp32', 'int8' or "
        "'int8-proposal'"
    )

"""The Python client other services use to submit images and collect results.

Submitting stores the original under a random key in the shared storage, creates the
job record, and sends the task to Celery *by name*: the client never imports worker
code or models, so it stays light enough for any web process. Only ids travel through
Redis, never image bytes. Retention windows are checked against the tenant's maximums
before anything is stored.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from celery import Celery

from redactor.clock import Clock, utcnow
from redactor.errors import ImageTooLarge, RedactorError
from redactor.jobs import Failure, JobNotFound, JobRecord, JobState, JobStore
from redactor.options import PipelineOptions
from redactor.retention import Windows
from redactor.service.erasure import ErasureReport, erase
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.service.settings import ServiceSettings
from redactor.storage import ObjectMissing, Storage, keys
from redactor.task_message import TASK_NAME, TaskMessage

log = logging.getLogger(__name__)

#: How long publishing a task keeps retrying while Redis is unreachable.
_PUBLISH_RETRY = {"max_retries": 20, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}


class JobNotDone(RedactorError):
    """The job has no result (yet, or ever): it is still running, failed or erased."""

    code = "not_done"


class RedactorClient:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        storage: Storage | None = None,
        jobs: JobStore | None = None,
        producer: Celery | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.policy = settings.retention_policy()
        self.clock = clock
        self.storage = storage or settings.build_storage()
        self.jobs = jobs or RedisJobStore(
            connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds),
            result_retention=settings.result_retention,
            clock=clock,
        )
        self.producer = producer or producer_app(settings)

    def submit(
        self,
        image: bytes | Path,
        *,
        tenant: str,
        options: PipelineOptions | None = None,
        original_retention: timedelta | None = None,
        result_retention: timedelta | None = None,
    ) -> str:
        """Queue one image for redaction; returns its job id.

        A path is read here and only its bytes are stored: the file name goes nowhere.
        ``original_retention`` (0: until the job is finished) and ``result_retention``
        shorten the tenant's default windows; asking for more than the tenant's maximum
        raises :class:`~redactor.retention.RetentionLimitExceeded` and stores nothing.
        """
        options = options or self.settings.pipeline
        windows = self.policy.resolve(
            keys.validate_tenant(tenant), original_retention, result_retention
        )
        data = image.read_bytes() if isinstance(image, Path) else image
        if len(data) > options.limits.max_file_bytes:
            raise ImageTooLarge(
                f"the file has {len(data)} bytes; the limit is {options.limits.max_file_bytes}"
            )
        record = JobRecord.new(
            keys.new_upload_id(),
            tenant,
            options,
            now=self.clock(),
            original_retention=windows.original,
            result_retention=windows.result,
            pending_limit=self.policy.pending_limit,
        )
        self.storage.put(record.original_key, data)
        try:
            self._enqueue(record, options, windows)
        except BaseException:
            self._abandon(record)
            raise
        return record.job_id

    def erase(self, job_id: str) -> ErasureReport:
        """Erase the upload now: its original, result, report and record (to a tombstone).

        A job still queued or running cannot bring anything back afterwards.
        """
        record = self.status(job_id)
        return erase(self.jobs, self.storage, record.tenant, job_id, clock=self.clock)

    def status(self, job_id: str) -> JobRecord:
        record = self.jobs.get(job_id)
        if record is None:
            raise JobNotFound(f"no job {job_id}")
        return record

    def wait(self, job_id: str, timeout: float, *, poll: float = 0.2) -> JobRecord:
        """Poll until the job is finished; raises ``TimeoutError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not (record := self.status(job_id)).finished:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {record.state} after {timeout} s")
            time.sleep(poll)
        return record

    def result(self, job_id: str) -> bytes:
        """The redacted image; only once the job is ``done`` (published)."""
        record = self._done(job_id)
        assert record.result_key is not None
        return self.storage.get(record.result_key)

    def report(self, job_id: str) -> dict[str, Any]:
        """What was found and done, read from storage; failed jobs have one too if the
        pipeline ran."""
        record = self.status(job_id)
        if record.report_key is None or record.result_deleted_at is not None:
            raise JobNotDone(_not_done_message(record))
        try:
            report: dict[str, Any] = json.loads(self.storage.get(record.report_key))
        except ObjectMissing:  # erased or expired since the record was read
            raise JobNotDone(_not_done_message(self.status(job_id))) from None
        return report

    def close(self) -> None:
        self.producer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _enqueue(self, record: JobRecord, options: PipelineOptions, windows: Windows) -> None:
        self.jobs.create(record)
        self.jobs.transition(record.job_id, JobState.QUEUED, expected={JobState.RECEIVED})
        message = TaskMessage.for_job(
            record.job_id,
            record.tenant,
            options,
            original_retention=windows.original,
            result_retention=windows.result,
        )
        self.producer.send_task(
            TASK_NAME,
            args=[message.model_dump_json()],
            task_id=record.job_id,
            # Celery events and monitors show this instead of the message (options may
            # name deny terms).
            argsrepr=f"[job {record.job_id}]",
            queue=self.settings.queue_for(options),
            retry=True,
            retry_policy=_PUBLISH_RETRY,
        )

    def _abandon(self, record: JobRecord) -> None:
        """Submission failed half-way: fail the record if there is one, drop the original."""
        failure = Failure("enqueue_failed", "the task could not be queued; submit again")
        try:
            self.jobs.transition(
                record.job_id,
                JobState.FAILED,
                expected={JobState.RECEIVED, JobState.QUEUED},
                failure=failure,
            )
        except Exception:  # noqa: BLE001 - best effort; the caller gets the original error
            log.warning("could not mark job %s failed after a failed submit", record.job_id)
        try:
            self.storage.delete(record.original_key)
        except Exception:  # noqa: BLE001 - best effort; retention deletes it later
            log.warning("could not delete the original of job %s", record.job_id)

    def _done(self, job_id: str) -> JobRecord:
        record = self.status(job_id)
        if record.state is not JobState.DONE or record.result_deleted_at is not None:
            raise JobNotDone(_not_done_message(record))
        return record


def producer_app(settings: ServiceSettings) -> Celery:
    """A minimal Celery app that can only send tasks, by name, as JSON."""
    app = Celery("redactor-client", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout},
    )
    return app


def _not_done_message(record: JobRecord) -> str:
    if record.result_deleted_at is not None:
        return f"job {record.job_id}'s result and report were deleted (retention)"
    if record.state is JobState.FAILED:
        return f"job {record.job_id} failed: {record.failure_code}: {record.failure_message}"
    return f"job {record.job_id} is {record.state}"

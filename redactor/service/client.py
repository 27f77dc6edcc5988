"""The Python client other services use to submit images and collect results.

Submitting stores the original under a random key in the shared storage, creates the
job record, and sends the task to Celery *by name*: the client never imports worker
code or models, so it stays light enough for any web process. Only ids travel through
Redis, never image bytes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from celery import Celery

from redactor.errors import ImageTooLarge, RedactorError
from redactor.jobs import (
    TASK_NAME,
    Failure,
    JobNotFound,
    JobRecord,
    JobState,
    JobStore,
    TaskMessage,
    utcnow,
)
from redactor.options import PipelineOptions
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.service.settings import ServiceSettings
from redactor.storage import Storage, keys, open_storage

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
    ) -> None:
        self.settings = settings
        self.storage = storage or open_storage(settings.storage_backend, str(settings.storage_dir))
        self.jobs = jobs or RedisJobStore(
            connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds),
            result_retention=settings.result_retention,
        )
        self.producer = producer or producer_app(settings)

    def submit(
        self, image: bytes | Path, *, tenant: str, options: PipelineOptions | None = None
    ) -> str:
        """Queue one image for redaction; returns its job id.

        A path is read here and only its bytes are stored: the file name goes nowhere.
        """
        options = options or self.settings.pipeline
        data = image.read_bytes() if isinstance(image, Path) else image
        if len(data) > options.limits.max_file_bytes:
            raise ImageTooLarge(
                f"the file has {len(data)} bytes; the limit is {options.limits.max_file_bytes}"
            )
        job_id = keys.new_upload_id()
        record = JobRecord.new(
            job_id,
            keys.validate_tenant(tenant),
            options,
            now=utcnow(),
            original_retention=self.settings.original_retention,
        )
        self.storage.put(record.original_key, data)
        try:
            self._enqueue(record, options)
        except BaseException:
            self._abandon(record)
            raise
        return job_id

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
        """What was found and done; failed jobs have one too if the pipeline ran."""
        record = self.status(job_id)
        if record.report is None:
            raise JobNotDone(_not_done_message(record))
        return record.report

    def close(self) -> None:
        self.producer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _enqueue(self, record: JobRecord, options: PipelineOptions) -> None:
        self.jobs.create(record)
        self.jobs.transition(record.job_id, JobState.QUEUED, expected={JobState.RECEIVED})
        message = TaskMessage.for_job(record.job_id, record.tenant, options)
        self.producer.send_task(
            TASK_NAME,
            args=[message.model_dump_json()],
            task_id=record.job_id,
            # Celery events and monitors show this instead of the message (options may
            # name deny terms).
            argsrepr=f"[job {record.job_id}]",
            queue=self.settings.queue,
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
        if record.state is not JobState.DONE:
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
    if record.state is JobState.FAILED:
        return f"job {record.job_id} failed: {record.failure_code}: {record.failure_message}"
    return f"job {record.job_id} is {record.state}"

"""What a worker does with one task message, free of Celery so tests can call it directly.

Order matters for privacy and for redelivery:

1. validate the message (a bad one fails its job, if it names one, and is never retried);
2. claim the job with a compare-and-set (a finished job is left alone: redelivery of a
   task that already ran is a no-op);
3. read the original, run the pipeline;
4. write result and report under deterministic keys (atomic writes, so a retry or a
   second attempt overwrites rather than duplicates);
5. only then publish, by moving the record to ``done``. A stale attempt cannot publish,
   and a job erased meanwhile gets its freshly written files deleted again (and a job
   erased before step 4 gets nothing written at all);
6. once the job is finished, delete whatever retention says is due now: with window 0,
   the original.

If the pipeline fails no image is written, only its report: the record says why (fail
closed). Transient
failures (storage, Redis) propagate so the task layer can retry them.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from redactor import retention_defaults
from redactor.audit import default_actor
from redactor.clock import Clock, utcnow
from redactor.errors import RedactorError, StorageError
from redactor.jobs import (
    Failure,
    JobRecord,
    JobResult,
    JobState,
    JobStore,
    TransitionConflict,
    apply_transition,
)
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline, RedactionResult
from redactor.retention import (
    Deleter,
    DueItem,
    RetentionLimitExceeded,
    RetentionPolicy,
    Target,
    Windows,
)
from redactor.storage import ObjectMissing, Storage, keys
from redactor.task_message import (
    InvalidTaskMessage,
    TaskMessage,
    job_id_for,
    message_hint,
    parse_task_message,
)

log = logging.getLogger(__name__)

#: What :meth:`Processor.process` did with a message, for logs and task results.
SKIPPED = "skipped"
#: Attempts that may end without the task finishing (its process killed, out of memory,
#: a crash in a native decoder) before the job fails with ``worker_lost``. Without a
#: bound, an image that kills its worker every time would be redelivered for ever.
MAX_LOST_ATTEMPTS = 3


class PipelineCache:
    """Pipelines per distinct options, built on first use and kept (models load once)."""

    def __init__(self, build: Callable[[PipelineOptions], Pipeline], size: int = 4) -> None:
        self._build = build
        self._size = size
        self._pipelines: OrderedDict[str, Pipeline] = OrderedDict()

    def get(self, options: PipelineOptions) -> Pipeline:
        key = options.model_dump_json()
        pipeline = self._pipelines.pop(key, None) or self._build(options)
        self._pipelines[key] = pipeline
        while len(self._pipelines) > self._size:
            self._pipelines.popitem(last=False)
        return pipeline


@dataclass
class Processor:
    storage: Storage
    jobs: JobStore
    pipelines: PipelineCache
    #: Options for messages that carry none.
    default_options: PipelineOptions
    #: The original's window for records this worker creates, when there is no ``policy``.
    original_retention: timedelta
    #: This process's private temp folder (per-task folders are made inside it).
    scratch_dir: Path
    #: Exceptions meaning "out of time" (Celery's soft time limit), failed as ``timeout``.
    deadline_errors: tuple[type[BaseException], ...] = ()
    #: Dev-mode test hook: sleep this long mid-task.
    test_delay: float = 0.0
    #: Windows and limits for records this worker creates (producer path).
    policy: RetentionPolicy | None = None
    clock: Clock = utcnow
    #: Names this process in the audit log.
    actor: str = field(default_factory=default_actor)

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = RetentionPolicy(
                defaults=Windows(self.original_retention, retention_defaults.RESULT_RETENTION)
            )
        self._retention = self.policy
        self._deleter = Deleter(self.storage, self.jobs, self.clock, self.actor)

    def process(self, payload: object, *, task_id: str | None = None, retries: int = 0) -> str:
        """Handle one message; returns the job's resulting state, or ``skipped``.

        ``retries``: earlier runs of this message that ended asking for a retry (a
        transient error); every other earlier attempt of the job was lost.
        """
        try:
            message = parse_task_message(payload)
        except InvalidTaskMessage as exc:
            return self._reject(payload, task_id, exc)
        record = self._claim(message)
        if record is None:
            return SKIPPED
        lost = record.attempts - 1 - retries
        if lost >= MAX_LOST_ATTEMPTS:
            return self._fail(record, _lost_failure(lost))
        log.info("job %s claimed (attempt %d)", record.job_id, record.attempts)
        try:
            with self._scratch(record):
                return self._redact(record, message.options or self.default_options)
        except self.deadline_errors:
            return self._fail(record, Failure("timeout", "the image took too long to redact"))

    def _claim(self, message: TaskMessage) -> JobRecord | None:
        record = self.jobs.get(message.job_id) or self._adopt(message)
        if record is None:
            return None
        if record.finished:
            log.info("job %s is already %s; redelivered task ignored", record.job_id, record.state)
            return None
        if record.tenant != message.tenant:
            self._fail_invalid(record, "tenant does not match the job's tenant")
            return None
        try:
            return self.jobs.transition(
                record.job_id,
                JobState.PROCESSING,
                expected={JobState.QUEUED, JobState.PROCESSING},
                attempt=record.attempts,
            )
        except TransitionConflict as exc:
            log.info("job %s not claimed: %s", record.job_id, exc)
            return None

    def _adopt(self, message: TaskMessage) -> JobRecord | None:
        """Create the record for a message from a producer that did not (see task-schema).

        Windows over the tenant's maximum fail the job (``None``); its original then
        keeps the tenant's default window.
        """
        options = message.options or self.default_options
        try:
            windows = self._retention.resolve(
                message.tenant,
                _window(message.original_retention),
                _window(message.result_retention),
            )
        except RetentionLimitExceeded as exc:
            record = self._create_queued(message.job_id, message.tenant, options)
            self._fail_invalid(record, str(exc))
            return None
        return self._create_queued(message.job_id, message.tenant, options, windows)

    def _create_queued(
        self,
        job_id: str,
        tenant: str,
        options: PipelineOptions,
        windows: Windows | None = None,
    ) -> JobRecord:
        now = self.clock()
        windows = windows or self._retention.resolve(tenant)
        received = JobRecord.new(
            job_id,
            tenant,
            options,
            now=now,
            original_retention=windows.original,
            result_retention=windows.result,
            pending_limit=self._retention.pending_limit,
        )
        queued = apply_transition(received, JobState.QUEUED, expected={JobState.RECEIVED}, now=now)
        if self.jobs.create(queued):
            log.info("job %s created from a task message", job_id)
            return queued
        existing = self.jobs.get(job_id)  # created concurrently by another delivery
        assert existing is not None
        return existing

    def _redact(self, record: JobRecord, options: PipelineOptions) -> str:
        try:
            original = self.storage.get(record.original_key)
        except ObjectMissing:
            return self._fail(
                record,
                Failure(
                    "missing_upload", "the original is not in storage (never stored, or deleted)"
                ),
            )
        if self.test_delay:
            time.sleep(self.test_delay)
        try:
            result = self.pipelines.get(options).run(original)
        except RedactorError as exc:  # building the pipeline failed: bad options or models
            return self._fail(record, Failure(exc.code, str(exc)))
        if not result.ok:
            return self._fail_with_report(record, result)
        return self._publish(record, result)

    def _publish(self, record: JobRecord, result: RedactionResult) -> str:
        assert result.output is not None and result.output_format is not None
        if not self._still_current(record):
            return SKIPPED
        report = result.report.to_dict()
        published = JobResult(
            result_key=keys.result_key(record.tenant, record.job_id, result.output_format),
            report_key=keys.report_key(record.tenant, record.job_id),
            output_format=result.output_format,
            counts=report["counts"],
        )
        self.storage.put(published.result_key, result.output)
        try:
            self.storage.put(published.report_key, _report_bytes(report))
        except StorageError:
            self._discard(published.result_key)
            raise
        try:
            self.jobs.set_result(record.job_id, published, attempt=record.attempts)
        except TransitionConflict as exc:
            if not _is_own_publication(exc.current, record, published):
                return self._unpublishable(exc.current, published)
            # The write landed but its reply was lost (Redis went down after it ran); the
            # store's retry then met the record this attempt had already published.
            log.info("job %s: its publication was confirmed after a retried write", record.job_id)
        log.info("job %s done", record.job_id)
        self._enforce_retention(record.job_id)
        return JobState.DONE.value

    def _still_current(self, record: JobRecord) -> bool:
        """Whether this attempt still owns the job: checked before writing any output.

        Saves writing (and then deleting) output for a job erased or taken over while
        the pipeline ran; the compare-and-set at publication still covers the race.
        """
        current = self.jobs.get(record.job_id)
        if current is None or (current.state, current.attempts) != (
            JobState.PROCESSING,
            record.attempts,
        ):
            state = current.state if current else "gone"
            log.info("job %s is %s now; nothing is written", record.job_id, state)
            return False
        return True

    def _enforce_retention(self, job_id: str) -> None:
        """Delete what is due now that the job is finished: the original, with window 0.

        A failure here is left to the sweeper, which finds the item due in the index.
        """
        try:
            self._deleter.delete_if_due(DueItem(Target.ORIGINAL, job_id))
        except StorageError as exc:
            log.warning("job %s: original not deleted yet (the sweeper retries): %s", job_id, exc)

    def _discard(self, key: str) -> None:
        """Delete an output whose companion could not be written, so no half of a
        publication is left behind if the retries also fail (best effort: the error that
        stopped the publication is the one that propagates)."""
        try:
            self.storage.delete(key)
        except StorageError as exc:
            log.warning("could not remove the unpublished %s: %s", key, exc)

    def _unpublishable(self, current: JobRecord, published: JobResult) -> str:
        """This attempt lost the job: to a newer attempt, a failure or an erasure.

        A newer attempt publishes the same keys (or has already), so its files stay; a
        job that ended failed or erased must have no output, so ours is deleted (but a
        failed job's own report stays).
        """
        if current.state in {JobState.ERASED, JobState.FAILED}:
            self.storage.delete(published.result_key)
            if current.report_key is None or current.state is JobState.ERASED:
                self.storage.delete(published.report_key)
            log.info(
                "job %s is %s; the output just written is deleted", current.job_id, current.state
            )
        else:
            log.info("job %s was taken over by attempt %d", current.job_id, current.attempts)
        return SKIPPED

    def _fail_with_report(self, record: JobRecord, result: RedactionResult) -> str:
        """Fail the job with the pipeline's report, stored like a result's report.

        If this attempt lost the job meanwhile, the report goes again unless the job's
        new owner may use the same key (another attempt, or a failure that kept it).
        """
        if not self._still_current(record):
            return SKIPPED
        report = result.report
        report_key = keys.report_key(record.tenant, record.job_id)
        self.storage.put(report_key, _report_bytes(report.to_dict()))
        failure = Failure(
            code=report.error_code or "failed",
            message=report.error or "the pipeline failed",
            report_key=report_key,
        )
        outcome = self._fail(record, failure)
        current = self.jobs.get(record.job_id) if outcome == SKIPPED else None
        if current is not None and current.state is JobState.ERASED:
            self.storage.delete(report_key)
        return outcome

    def _fail(self, record: JobRecord, failure: Failure) -> str:
        try:
            self.jobs.transition(
                record.job_id,
                JobState.FAILED,
                expected={JobState.PROCESSING},
                attempt=record.attempts,
                failure=failure,
            )
        except TransitionConflict as exc:
            log.info("job %s not failed: %s", record.job_id, exc)
            return SKIPPED
        log.info("job %s failed: %s", record.job_id, failure.code)
        self._enforce_retention(record.job_id)
        return JobState.FAILED.value

    def _reject(self, payload: object, task_id: str | None, exc: InvalidTaskMessage) -> str:
        """Fail the job an invalid message names; the message is never retried."""
        job_id, tenant = job_id_for(payload, task_id), message_hint(payload)[1]
        record = self.jobs.get(job_id) if job_id else None
        if record is None and job_id and tenant:
            record = self._create_queued(job_id, tenant, self.default_options)
        if record is None:
            log.warning("dropped an invalid task message naming no known job: %s", exc)
            return SKIPPED
        if record.finished:
            return SKIPPED
        self._fail_invalid(record, str(exc))
        return JobState.FAILED.value

    def _fail_invalid(self, record: JobRecord, reason: str) -> None:
        try:
            self.jobs.transition(
                record.job_id,
                JobState.FAILED,
                expected={JobState.RECEIVED, JobState.QUEUED, JobState.PROCESSING},
                failure=Failure(InvalidTaskMessage.code, reason),
            )
        except TransitionConflict as exc:
            log.info("job %s not failed: %s", record.job_id, exc)
        else:
            log.warning("job %s failed: invalid task message", record.job_id)
            self._enforce_retention(record.job_id)

    @contextmanager
    def _scratch(self, record: JobRecord) -> Iterator[None]:
        """A private temp folder for this task, removed afterwards whatever happened.

        Libraries that spill decoded image data to temp files write it here, not to a
        shared /tmp, and nothing outlives the task.
        """
        self.scratch_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{record.job_id}-", dir=self.scratch_dir))
        previous, tempfile.tempdir = tempfile.tempdir, str(folder)
        try:
            yield
        finally:
            tempfile.tempdir = previous
            shutil.rmtree(folder, ignore_errors=True)


def _lost_failure(lost: int) -> Failure:
    return Failure(
        "worker_lost",
        f"the worker redacting this image died {lost} times (killed, out of memory, or a "
        "crash while decoding); it is not tried again",
    )


def _window(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _is_own_publication(current: JobRecord, record: JobRecord, published: JobResult) -> bool:
    """Whether ``current`` is the record this attempt's own ``set_result`` wrote."""
    return (
        current.state is JobState.DONE
        and current.attempts == record.attempts
        and current.result_key == published.result_key
        and current.report_key == published.report_key
    )


def _report_bytes(report: dict[str, object]) -> bytes:
    return json.dumps(report, sort_keys=True).encode()

"""The redaction task: a thin Celery adapter over :class:`redactor.service.processor.Processor`.

Each worker process builds its processor once, in ``worker_process_init``: native
thread pools are limited first (N processes on N cores must not each start N threads),
then the default pipeline's models load. The heavy imports happen in the child
processes only; the parent that supervises them stays small. A worker that does not
consume the redaction queue (the retention worker) loads no models.

Scratch folders (:mod:`redactor.service.scratch`): the worker clears its node's folder
when it starts, and each pool process removes the folders of dead siblings when it starts.
Nothing else is kept on the local disk: originals, results and reports live in the
shared storage (``ServiceSettings.build_storage``), job state in Redis.

A worker may consume the main queue, the OCR queue (``REDACTOR_OCR_QUEUE``) or both;
each finished task is counted per queue in Redis for autoscaling
(:mod:`redactor.service.queues`).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from billiard.einfo import ExceptionInfo
from celery import Task, current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import (
    celeryd_init,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)

from redactor.errors import RedactorError, StorageError
from redactor.jobs import Failure, JobNotFound, JobState, TransitionConflict
from redactor.logs import set_log_context
from redactor.service import heartbeat, queues, scratch
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.task_message import TASK_NAME, job_id_for

if TYPE_CHECKING:
    from redactor.service.processor import Processor

log = logging.getLogger(__name__)

#: Failures worth another try: storage hiccups and Redis restarts. Never bad input.
TRANSIENT_ERRORS = (StorageError, redis.ConnectionError, redis.TimeoutError)

_processor: Processor | None = None
_job_store: RedisJobStore | None = None
_heartbeat: heartbeat.Heartbeat | None = None


@celeryd_init.connect  # type: ignore[untyped-decorator]
def _init_worker(sender: str, instance: Any, **_: Any) -> None:
    """At worker start: nothing of this node runs yet, so its scratch leftovers go."""
    scratch.clear(scratch.node_folder(instance.app.settings.scratch_dir, sender))


@worker_init.connect  # type: ignore[untyped-decorator]
def _refuse_to_start_without_models(sender: Any, **_: Any) -> None:
    """A redaction worker whose model files are missing or altered does not start.

    Checked in the main process, before any pool process exists: were it left to the
    pool processes, their errors would only be logged (Celery swallows exceptions from
    signal handlers) and the worker would take tasks and fail every job. Every file of
    the manifest is checked, since any job may ask for any engine. ``SystemExit`` is the
    one exception Celery lets through here; its message names each file and checksum.
    """
    consumed = set(sender.app.amqp.queues.consume_from)
    if not consumed & set(sender.app.settings.redaction_queues()):
        return  # the retention worker loads no models
    from models import verify_all

    problems = [result.problem for result in verify_all() if not result.ok]
    if problems:
        for problem in problems:
            log.critical("worker not started: %s", problem)
        raise SystemExit("worker not started: " + "; ".join(str(p) for p in problems))


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _init_worker_process(sender: str, **_: Any) -> None:
    node = scratch.node_folder(current_app.settings.scratch_dir, sender)
    scratch.reap_dead(node)
    redaction_queues = current_app.settings.redaction_queues()
    if set(redaction_queues) & set(current_app.amqp.queues.consume_from):
        _get_processor(scratch.process_folder(node))
        _start_heartbeat()
        log.info("worker process ready: models loaded")
    else:
        log.info("worker process ready: no models (not consuming %s)", ", ".join(redaction_queues))


@task_prerun.connect  # type: ignore[untyped-decorator]
def _enter_job_context(task_id: str, task: Task, args: tuple[Any, ...], **_: Any) -> None:
    """Lines logged while a redaction task runs carry its job id."""
    if task.name == TASK_NAME:
        set_log_context(job_id=job_id_for(args[0] if args else None, task_id))


@task_postrun.connect  # type: ignore[untyped-decorator]
def _leave_job_context(**_: Any) -> None:
    set_log_context(job_id=None)


def _start_heartbeat() -> None:
    """This pool process's heartbeat, so a sweep can tell when it died mid-job."""
    global _heartbeat
    settings = current_app.settings
    client = connect(settings.redis_url, outage_seconds=settings.heartbeat_interval)
    _heartbeat = heartbeat.Heartbeat(client, heartbeat.new_worker_id(), settings.heartbeat_interval)
    _heartbeat.start()


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _stop_heartbeat(**_: Any) -> None:
    """A pool process that stops cleanly says so at once, rather than going quiet."""
    if _heartbeat is not None:
        _heartbeat.stop()


def _get_job_store() -> RedisJobStore:
    global _job_store
    if _job_store is None:
        settings = current_app.settings
        client = connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds)
        _job_store = RedisJobStore(client, result_retention=settings.result_retention)
    return _job_store


def _get_processor(scratch_dir: Path | None = None) -> Processor:
    """This process's processor, built on first use (prefork children build it at init)."""
    global _processor
    if _processor is None:
        _processor = _build_processor(scratch_dir or current_app.settings.scratch_dir)
    return _processor


def _build_processor(scratch_dir: Path) -> Processor:
    from redactor.allocator import keep_large_buffers
    from redactor.pipeline import Pipeline
    from redactor.service.processor import PipelineCache, Processor
    from redactor.text.ocr import prefer_device
    from redactor.threads import limit_threads

    settings = current_app.settings
    limit_threads(settings.cpu_threads_per_process())
    keep_large_buffers()
    prefer_device(settings.ocr_device)
    hash_key = settings.hash_key_bytes()
    pipelines = PipelineCache(
        lambda options: Pipeline.build(
            options, hash_key=hash_key, propagate=(SoftTimeLimitExceeded,)
        )
    )
    pipelines.get(settings.pipeline)  # load the default models now, not on the first task
    return Processor(
        storage=settings.build_storage(),
        jobs=_get_job_store(),
        pipelines=pipelines,
        default_options=settings.pipeline,
        original_retention=settings.original_retention,
        scratch_dir=scratch_dir,
        deadline_errors=(SoftTimeLimitExceeded,),
        test_delay=settings.test_task_delay,
        policy=settings.retention_policy(),
    )


class RedactTask(Task):  # type: ignore[misc]
    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        """The task gave up (retries used up, hard time limit, a bug): fail the job.

        Runs in the pool process, or in the supervising process after a hard time limit,
        which is why it needs only the job store and not the processor.
        """
        job_id = job_id_for(args[0] if args else None, task_id)
        if job_id is None:
            return
        _count_finished(self.request, "failed")
        try:
            _get_job_store().transition(
                job_id,
                JobState.FAILED,
                expected={JobState.QUEUED, JobState.PROCESSING},
                failure=_failure_for(exc),
            )
        except (TransitionConflict, JobNotFound):
            return
        log.warning("job %s failed: the task gave up after %s", job_id, type(exc).__name__)


def _failure_for(exc: BaseException) -> Failure:
    """The job's failure for what made the task give up, with the error's own words.

    Storage and Redis errors say what failed and how (``could not write results/...: No
    space left on device``); their messages carry keys made of ids, never image data.
    """
    if isinstance(exc, TimeLimitExceeded | SoftTimeLimitExceeded):
        return Failure("timeout", "the task ran out of time")
    if isinstance(exc, TRANSIENT_ERRORS):
        return Failure(
            "unavailable", f"storage or Redis stayed unavailable through every retry: {exc}"
        )
    if isinstance(exc, RedactorError):
        return Failure(exc.code, str(exc))
    return Failure("internal_error", f"unexpected {type(exc).__name__}")


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    base=RedactTask,
    name=TASK_NAME,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,  # 1 s, 2 s, 4 s ... between tries
    retry_backoff_max=60,
    retry_jitter=True,  # spread retries so workers do not hammer a recovering Redis together
    max_retries=6,
)
def redact_upload(self: Task, message: object) -> str:
    """Redact the upload a version-1 message (JSON text) names; see docs/task-schema.md."""
    with _holding(job_id_for(message, self.request.id)):
        outcome: str = _get_processor().process(
            message, task_id=self.request.id, retries=self.request.retries or 0
        )
    _count_finished(self.request, outcome)
    return outcome


def _holding(job_id: str | None) -> AbstractContextManager[None]:
    """Name this process as the job's holder while it runs (see heartbeat.py)."""
    if _heartbeat is None or job_id is None:
        return nullcontext()
    settings = current_app.settings
    ttl = settings.task_time_limit + settings.visibility_timeout
    return heartbeat.holding(_heartbeat.client, job_id, _heartbeat.worker_id, ttl)


def _count_finished(request: Any, outcome: str) -> None:
    """Count the task for its queue's throughput; a metric never fails a task."""
    queue = (request.delivery_info or {}).get("routing_key")
    if not queue:
        return
    try:
        queues.record_finished(_get_job_store().client, queue, outcome)
    except redis.RedisError as exc:
        log.warning("task not counted in the queue metrics: %s", exc)

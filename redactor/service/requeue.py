"""Finding jobs whose task message was lost, and sending it again.

Celery on Redis moves a message out of the queue list and into its "unacked" hash in
two steps; a Redis crash between them loses the message, and its job would stay
``queued`` for ever (seen in the Redis-restart test). Every unfinished job is
therefore indexed by the time it entered its state, in the same MULTI/EXEC as the
record, and each retention sweep sends the task again for jobs that can only be lost:

* ``queued`` for longer than ``queued_after`` while their queue is empty: a message
  that was ever pushed is either in the list, being claimed within milliseconds, or
  lost;
* ``processing`` while the pool process that held it has stopped its heartbeat
  (:mod:`redactor.service.heartbeat`): the worker is gone, and its message would only
  come back after Redis's visibility timeout. Sent once per holder: the holder entry
  is dropped with the send;
* ``processing`` for longer than the hard time limit plus the visibility timeout: the
  worker was killed by then, and Redis would have handed a surviving message to
  another worker (the backstop for jobs with no holder on record).

Sending again is always safe: a task claims its job by compare-and-set on the state
and the attempt number, so a duplicate of a live message does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from celery import Celery

from redactor.jobs import JobRecord, JobState, JobStore
from redactor.options import PipelineOptions
from redactor.service.client import producer_app
from redactor.service.heartbeat import forget_holder, holder_is_gone, time_to_live
from redactor.service.redis_jobs import UNFINISHED_KEY, RedisJobStore, connect
from redactor.service.settings import ServiceSettings
from redactor.task_message import TASK_NAME, TaskMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequeuePolicy:
    queued_after: timedelta
    processing_after: timedelta
    #: A heartbeat's time to live, seconds (0: heartbeats are not consulted).
    heartbeat_ttl: int = 0


class Requeuer:
    def __init__(
        self,
        client: redis.Redis,
        jobs: JobStore,
        send: Callable[[TaskMessage, str], None],
        queue_for: Callable[[PipelineOptions], str],
        policy: RequeuePolicy,
    ) -> None:
        self.client = client
        self.jobs = jobs
        self.send = send
        self.queue_for = queue_for
        self.policy = policy

    def requeue_lost(self, now: datetime) -> int:
        """Send the task again for every job that can only have lost it; returns how many."""
        oldest = now - min(
            self.policy.queued_after, self.policy.processing_after, self._heartbeat_window()
        )
        sent = 0
        for job_id in self.client.zrangebyscore(UNFINISHED_KEY, "-inf", oldest.timestamp()):
            record = self.jobs.get(str(job_id))
            reason = None if record is None else self._lost(record, now)
            if record is not None and reason is not None:
                self._send_again(record, reason)
                forget_holder(self.client, record.job_id)
                sent += 1
        return sent

    def _heartbeat_window(self) -> timedelta:
        ttl = self.policy.heartbeat_ttl
        return timedelta(seconds=ttl) if ttl else timedelta.max

    def _lost(self, record: JobRecord, now: datetime) -> str | None:
        """Why the job can only have lost its task, or ``None`` if it may still have it."""
        since = record.timestamps.get(record.state)
        if since is None:
            return None
        if record.state is JobState.PROCESSING:
            if now - since > self.policy.processing_after:
                return "processing past the time limit and the visibility timeout"
            ttl = self.policy.heartbeat_ttl
            quiet = bool(ttl) and now - since >= timedelta(seconds=ttl)
            if quiet and holder_is_gone(self.client, record.job_id, ttl):
                return "processing, and its worker's heartbeat stopped"
            return None
        if record.state is JobState.QUEUED:
            options = PipelineOptions.model_validate(record.options)
            empty = self.client.llen(self.queue_for(options)) == 0
            if empty and now - since > self.policy.queued_after:
                return "queued with its queue empty"
        return None

    def _send_again(self, record: JobRecord, reason: str) -> None:
        options = PipelineOptions.model_validate(record.options)
        message = TaskMessage.for_job(record.job_id, record.tenant, options)
        self.send(message, self.queue_for(options))
        log.warning("job %s was %s: sent its task again", record.job_id, reason)


def open_requeuer(settings: ServiceSettings) -> Requeuer:
    """The requeuer for these settings (used by the sweep task and ``redactor sweep``)."""
    client = connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds)
    policy = RequeuePolicy(
        # Two sweeps apart, so a message pushed just before a sweep is never doubted.
        queued_after=timedelta(seconds=max(30.0, 2 * settings.sweep_interval)),
        processing_after=timedelta(seconds=settings.task_time_limit + settings.visibility_timeout),
        heartbeat_ttl=time_to_live(settings.heartbeat_interval),
    )
    return Requeuer(
        client,
        RedisJobStore(client, result_retention=settings.result_retention),
        celery_sender(producer_app(settings)),
        settings.queue_for,
        policy,
    )


def celery_sender(producer: Celery) -> Callable[[TaskMessage, str], None]:
    """Send a task message by name through a Celery app, as the client does."""

    def send(message: TaskMessage, queue: str) -> None:
        producer.send_task(
            TASK_NAME,
            args=[message.model_dump_json()],
            task_id=message.job_id,
            argsrepr=f"[job {message.job_id}]",
            queue=queue,
        )

    return send

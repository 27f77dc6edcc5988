"""Worker heartbeats: which process holds a running job, and whether it is still alive.

Each redaction pool process has an id of its own and renews
``redactor:worker:<id>:alive`` every ``REDACTOR_HEARTBEAT_INTERVAL`` seconds, with a
time to live of three intervals. While it runs a task it names itself in
``redactor:holder:<job id>``. A ``processing`` job whose holder's heartbeat has
expired lost its worker (SIGKILL, the OOM killer, a host gone, a whole ``redactor up``
worker killed), and the retention sweep sends its task again at once
(:mod:`redactor.service.requeue`) instead of waiting for Redis's visibility timeout.

Just after Redis itself restarts, a missing heartbeat proves nothing (live workers
have not renewed it yet), so heartbeats are only believed once Redis has been up for
a whole time to live. Sending a task again for a job that is in fact still running
costs a second run, never a wrong result: the stale attempt cannot publish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator

import redis
from redis.client import Pipeline

from redactor.service.redis_jobs import KEY_PREFIX

log = logging.getLogger(__name__)

#: Heartbeats a process may miss before it is taken for dead.
MISSED_BEATS = 3


def alive_key(worker_id: str) -> str:
    return f"{KEY_PREFIX}:worker:{worker_id}:alive"


def holder_key(job_id: str) -> str:
    return f"{KEY_PREFIX}:holder:{job_id}"


def new_worker_id() -> str:
    """Host, process id and a random part (process ids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def time_to_live(interval: float) -> int:
    """Whole seconds a heartbeat lasts: :data:`MISSED_BEATS` intervals, at least 1 s."""
    return max(1, round(MISSED_BEATS * interval))


class Heartbeat(threading.Thread):
    """Renews one process's heartbeat until stopped; a failed renewal is only logged."""

    def __init__(self, client: redis.Redis, worker_id: str, interval: float) -> None:
        super().__init__(name="redactor-heartbeat", daemon=True)
        self.client = client
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def beat(self) -> None:
        self.client.set(alive_key(self.worker_id), "1", ex=time_to_live(self.interval))

    def run(self) -> None:
        while True:
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("heartbeat not renewed (Redis unavailable?): %s", exc)
            if self.stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self.stopped.set()
        with contextlib.suppress(redis.RedisError):
            self.client.delete(alive_key(self.worker_id))


@contextlib.contextmanager
def holding(client: redis.Redis, job_id: str, worker_id: str, ttl: int) -> Iterator[None]:
    """Name ``worker_id`` as the holder of ``job_id`` while the block runs.

    ``ttl``: seconds after which the entry goes anyway (past the hard time limit plus
    the visibility timeout, the time rule of the requeuer covers the job). Redis errors
    are logged, never raised: the task must not fail for its bookkeeping.
    """
    try:
        client.set(holder_key(job_id), worker_id, ex=ttl)
    except redis.RedisError as exc:
        log.warning("job %s: holder not recorded: %s", job_id, exc)
    try:
        yield
    finally:
        try:
            release(client, job_id, worker_id)
        except redis.RedisError as exc:
            log.warning("job %s: holder not cleared: %s", job_id, exc)


def release(client: redis.Redis, job_id: str, worker_id: str) -> None:
    """Remove the holder entry if it still names ``worker_id`` (a later attempt's stays)."""

    def clear(pipe: Pipeline) -> None:
        holder = pipe.get(holder_key(job_id))
        pipe.multi()
        if holder is not None and _text(holder) == worker_id:
            pipe.delete(holder_key(job_id))

    client.transaction(clear, holder_key(job_id))


def holder_is_gone(client: redis.Redis, job_id: str, ttl: int) -> bool:
    """Whether the job's holder is known and its heartbeat expired, believed only once
    Redis has been up for ``ttl`` seconds."""
    holder = client.get(holder_key(job_id))
    if holder is None or client.exists(alive_key(_text(holder))):
        return False
    uptime = client.info("server").get("uptime_in_seconds", 0)
    return int(uptime) >= ttl


def forget_holder(client: redis.Redis, job_id: str) -> None:
    """After the task was sent again: the job is judged by time alone until a new holder."""
    client.delete(holder_key(job_id))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

"""How deep each Celery queue is and how many tasks its workers finished, from Redis.

An autoscaler needs both, per queue: the backlog (``LLEN``: Celery's Redis transport
keeps each queue as a list) and the rate at which workers drain it. Workers count
each finished task in one Redis hash (``HINCRBY``, field ``<outcome>:<queue>``), so
any process can read the totals for every queue at once, and a scraper turns them into
rates. Counting costs one round trip per task, nothing next to an image's seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import redis

#: Finished tasks by outcome and queue: ``{"done:redactor": 812, "failed:redactor-ocr": 3}``.
FINISHED_KEY = "redactor:queue-stats:finished"
#: What a finished task can have come to.
OUTCOMES = ("done", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue: str
    #: Tasks waiting to be taken (not counting those a worker holds).
    waiting: int
    #: Tasks finished since the counters began, by outcome.
    finished: dict[str, int] = field(default_factory=dict)


def record_finished(client: redis.Redis, queue: str, outcome: str) -> None:
    """Count one task from ``queue`` that came to ``outcome`` (``done``, ``failed``...)."""
    client.hincrby(FINISHED_KEY, f"{outcome}:{queue}", 1)


def queue_stats(client: redis.Redis, queues: Iterable[str]) -> list[QueueStats]:
    """Depth and finished counts of ``queues`` and of every queue that has finished tasks,
    sorted by name (so a queue shows up once any worker has counted a task from it)."""
    finished = _finished(client)
    names = sorted({*queues, *finished})
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    depths = pipe.execute()
    return [
        QueueStats(name, int(depth), finished.get(name, {}))
        for name, depth in zip(names, depths, strict=True)
    ]


def _finished(client: redis.Redis) -> dict[str, dict[str, int]]:
    by_queue: dict[str, dict[str, int]] = {}
    raw: dict[bytes | str, bytes | str] = client.hgetall(FINISHED_KEY)
    for name, count in raw.items():
        text = name.decode() if isinstance(name, bytes) else name
        outcome, _, queue = text.partition(":")
        by_queue.setdefault(queue, {})[outcome] = int(count)
    return by_queue

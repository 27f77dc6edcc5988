"""The retention index in Redis: a sorted set of deadlines per target, and leases.

``redactor:retention:due:original`` and ``redactor:retention:due:result`` map job ids to
deadlines (epoch seconds). They are written only by :func:`write_index`, inside the
MULTI/EXEC that writes the job record, from :func:`redactor.retention.pending` applied
to that record: the index can never disagree with a committed record. With
``appendfsync always`` an acknowledged deadline survives a crash.

Sweepers claim due items by moving them to ``redactor:retention:leases`` (member
``<target>:<job_id>``, scored by when the lease ends) in one Lua script: a claimed item
is offered to nobody else, and a sweeper killed after claiming loses nothing, because
:meth:`RedisRetentionIndex.requeue_expired` puts expired leases back. That move is the
only Lua here: it has no rules in it, only "take the due ones and lease them", which
MULTI/EXEC cannot express without watching a set that every record write touches.

Why not Celery countdown/ETA tasks for the delays: with a Redis broker a countdown task
is held in a worker's memory until it is due, and is redelivered each time it outlasts
the visibility timeout, so days-long windows would pile up in worker memory and repeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import redis
from redis.client import Pipeline

from redactor.jobs import JobRecord
from redactor.retention import DueItem, Target, pending

_PREFIX = "redactor:retention"
LEASES = f"{_PREFIX}:leases"


def due_key(target: Target) -> str:
    return f"{_PREFIX}:due:{target.value}"


def lease_member(target: Target, job_id: str) -> str:
    return f"{target.value}:{job_id}"


def write_index(pipe: Pipeline, record: JobRecord) -> None:
    """Queue the index changes for ``record`` on a MULTI pipeline.

    Held targets get their deadline; targets no longer held leave the index. A lease on
    an item is dropped either way: the fresh due entry stands in for it, so a sweeper
    that dies later cannot lose it.
    """
    due = pending(record)
    for target in Target:
        if target in due:
            pipe.zadd(due_key(target), {record.job_id: due[target].timestamp()})
        else:
            pipe.zrem(due_key(target), record.job_id)
        pipe.zrem(LEASES, lease_member(target, record.job_id))


def drop_index(pipe: Pipeline, job_id: str) -> None:
    for target in Target:
        pipe.zrem(due_key(target), job_id)
        pipe.zrem(LEASES, lease_member(target, job_id))


# KEYS: due:original, due:result, leases. ARGV: now, limit, lease end (epoch seconds).
_CLAIM = """
local claimed = {}
local targets = {'original', 'result'}
for i = 1, 2 do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[i], id)
    local member = targets[i] .. ':' .. id
    redis.call('ZADD', KEYS[3], ARGV[3], member)
    claimed[#claimed + 1] = member
  end
end
return claimed
"""

# KEYS: due:original, due:result, leases. ARGV: now. NX keeps a deadline a record write
# put back meanwhile.
_REQUEUE = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
for _, member in ipairs(expired) do
  local target, id = string.match(member, '^(%a+):(.+)$')
  local due = KEYS[1]
  if target == 'result' then due = KEYS[2] end
  redis.call('ZREM', KEYS[3], member)
  redis.call('ZADD', due, 'NX', ARGV[1], id)
end
return #expired
"""


class RedisRetentionIndex:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._keys = [due_key(Target.ORIGINAL), due_key(Target.RESULT), LEASES]
        self._claim = client.register_script(_CLAIM)
        self._requeue = client.register_script(_REQUEUE)

    def claim_due(self, now: datetime, *, limit: int, lease_until: datetime) -> list[DueItem]:
        args = [now.timestamp(), limit, lease_until.timestamp()]
        members = self._claim(keys=self._keys, args=args)
        return [_item(member) for member in cast(list[str], members)]

    def requeue_expired(self, now: datetime) -> int:
        return cast(int, self._requeue(keys=self._keys, args=[now.timestamp()]))

    def count_due(self, now: datetime) -> int:
        pipe = self.client.pipeline(transaction=False)
        for target in Target:
            pipe.zcount(due_key(target), "-inf", now.timestamp())
        pipe.zcard(LEASES)
        return sum(cast(list[int], pipe.execute()))

    def peek_due(self, now: datetime, *, limit: int) -> list[DueItem]:
        items: list[DueItem] = []
        for target in Target:
            ids = self.client.zrangebyscore(due_key(target), "-inf", now.timestamp(), 0, limit)
            items += [DueItem(target, job_id) for job_id in cast(list[str], ids)]
        return items[:limit]


def _item(member: str) -> DueItem:
    target, job_id = member.split(":", 1)
    return DueItem(Target(target), job_id)

"""Jobs whose task message was lost get it again; live ones are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import redis

from redactor.jobs import Failure, JobRecord, JobState
from redactor.options import PipelineOptions
from redactor.service.redis_jobs import UNFINISHED_KEY, RedisJobStore
from redactor.service.requeue import RequeuePolicy, Requeuer
from redactor.service.stack import RedisServer
from redactor.storage import keys
from redactor.task_message import TaskMessage

pytestmark = pytest.mark.redis

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
QUEUE = "requeue-test"
POLICY = RequeuePolicy(queued_after=timedelta(minutes=2), processing_after=timedelta(minutes=15))


@dataclass
class World:
    client: redis.Redis
    store: RedisJobStore
    sent: list[TaskMessage] = field(default_factory=list)

    def requeuer(self) -> Requeuer:
        def send(message: TaskMessage, queue: str) -> None:
            assert queue == QUEUE
            self.sent.append(message)

        return Requeuer(self.client, self.store, send, lambda _: QUEUE, POLICY)

    def queued_job(self) -> str:
        job_id = keys.new_upload_id()
        options = PipelineOptions(text="off")
        window = timedelta(hours=24)
        self.store.create(JobRecord.new(job_id, "acme", options, now=T0, original_retention=window))
        self.store.transition(job_id, JobState.QUEUED, expected={JobState.RECEIVED})
        return job_id

    def claim(self, job_id: str) -> None:
        self.store.transition(job_id, JobState.PROCESSING, expected={JobState.QUEUED}, attempt=0)


@pytest.fixture
def world(redis_server: RedisServer) -> Iterator[World]:
    url = f"redis://{redis_server.host}:{redis_server.port}/9"
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    yield World(
        client, RedisJobStore(client, result_retention=timedelta(days=30), clock=lambda: T0)
    )
    client.flushdb()
    client.close()


def test_given_queued_job_with_no_message_then_it_is_sent_again_once_stale(world: World) -> None:
    job_id = world.queued_job()
    requeuer = world.requeuer()
    assert requeuer.requeue_lost(T0 + timedelta(minutes=1)) == 0
    assert requeuer.requeue_lost(T0 + timedelta(minutes=3)) == 1
    assert [m.job_id for m in world.sent] == [job_id]
    assert world.sent[0].original_key == keys.original_key("acme", job_id)


def test_given_queue_still_holding_messages_then_queued_jobs_are_not_doubted(world: World) -> None:
    world.queued_job()
    world.client.lpush(QUEUE, "a message still waiting")
    assert world.requeuer().requeue_lost(T0 + timedelta(hours=1)) == 0


def test_given_processing_job_past_both_limits_then_it_is_sent_again(world: World) -> None:
    world.claim(world.queued_job())
    world.client.lpush(QUEUE, "other work")  # processing jobs are judged by time alone
    requeuer = world.requeuer()
    assert requeuer.requeue_lost(T0 + timedelta(minutes=10)) == 0
    assert requeuer.requeue_lost(T0 + timedelta(minutes=16)) == 1


def test_given_finished_job_then_it_leaves_the_index(world: World) -> None:
    job_id = world.queued_job()
    assert world.client.zscore(UNFINISHED_KEY, job_id) is not None
    world.claim(job_id)
    failure = Failure("corrupt_image", "cannot decode")
    world.store.transition(
        job_id, JobState.FAILED, expected={JobState.PROCESSING}, attempt=1, failure=failure
    )
    assert world.client.zscore(UNFINISHED_KEY, job_id) is None
    assert world.requeuer().requeue_lost(T0 + timedelta(days=1)) == 0

"""Jobs whose task message was lost get it again; live ones are left alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
import redis

from redactor.jobs import Failure, JobRecord, JobState
from redactor.options import PipelineOptions
from redactor.service import heartbeat
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

    def requeuer(self, policy: RequeuePolicy = POLICY) -> Requeuer:
        def send(message: TaskMessage, queue: str) -> None:
            assert queue == QUEUE
            self.sent.append(message)

        return Requeuer(self.client, self.store, send, lambda _: QUEUE, policy)

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


#: Heartbeats last 1 s here; the session's Redis has been up for longer than that.
WITH_HEARTBEATS = replace(POLICY, heartbeat_ttl=1)


def _running_on(world: World, worker_id: str, *, alive: bool) -> str:
    job_id = world.queued_job()
    world.claim(job_id)
    world.client.set(heartbeat.holder_key(job_id), worker_id, ex=600)
    if alive:
        world.client.set(heartbeat.alive_key(worker_id), "1", ex=600)
    return job_id


def test_given_processing_job_whose_worker_stopped_its_heartbeat_then_it_is_sent_again_once(
    world: World,
) -> None:
    wait_for_uptime(world.client, 1)
    job_id = _running_on(world, "host:1:dead", alive=False)
    requeuer = world.requeuer(WITH_HEARTBEATS)
    assert requeuer.requeue_lost(T0) == 0  # processing for less than a heartbeat's life
    assert requeuer.requeue_lost(T0 + timedelta(seconds=2)) == 1
    assert [m.job_id for m in world.sent] == [job_id]
    assert world.client.get(heartbeat.holder_key(job_id)) is None
    assert requeuer.requeue_lost(T0 + timedelta(seconds=4)) == 0  # once per holder


def test_given_processing_job_whose_worker_beats_then_it_is_left_alone(world: World) -> None:
    wait_for_uptime(world.client, 1)
    _running_on(world, "host:2:alive", alive=True)
    assert world.requeuer(WITH_HEARTBEATS).requeue_lost(T0 + timedelta(minutes=5)) == 0


def test_given_processing_job_with_no_holder_then_only_time_tells(world: World) -> None:
    world.claim(world.queued_job())
    requeuer = world.requeuer(WITH_HEARTBEATS)
    assert requeuer.requeue_lost(T0 + timedelta(minutes=5)) == 0
    assert requeuer.requeue_lost(T0 + timedelta(minutes=16)) == 1


def test_given_redis_up_for_less_than_a_heartbeat_then_missing_heartbeats_prove_nothing(
    world: World,
) -> None:
    _running_on(world, "host:3:unknown", alive=False)
    young = replace(POLICY, heartbeat_ttl=10**9)  # longer than this Redis has been up
    assert world.requeuer(young).requeue_lost(T0 + timedelta(minutes=5)) == 0


def test_holding_names_the_worker_while_it_runs_and_release_spares_a_later_holder(
    world: World,
) -> None:
    with heartbeat.holding(world.client, "job-a", "w:1:x", ttl=60):
        assert world.client.get(heartbeat.holder_key("job-a")) == "w:1:x"
        assert 0 < world.client.ttl(heartbeat.holder_key("job-a")) <= 60
    assert world.client.get(heartbeat.holder_key("job-a")) is None
    with heartbeat.holding(world.client, "job-b", "w:1:x", ttl=60):
        world.client.set(heartbeat.holder_key("job-b"), "w:2:later")  # a second attempt
    assert world.client.get(heartbeat.holder_key("job-b")) == "w:2:later"


def test_a_heartbeat_thread_renews_its_key_until_stopped(world: World) -> None:
    beating = heartbeat.Heartbeat(world.client, "w:9:beat", interval=0.2)
    beating.start()
    try:
        deadline = time.monotonic() + 5
        while not world.client.exists(heartbeat.alive_key("w:9:beat")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert 0 < world.client.ttl(heartbeat.alive_key("w:9:beat")) <= 1
    finally:
        beating.stop()
        beating.join(timeout=5)
    assert not world.client.exists(heartbeat.alive_key("w:9:beat"))


def wait_for_uptime(client: redis.Redis, seconds: int) -> None:
    while int(client.info("server")["uptime_in_seconds"]) < seconds:
        time.sleep(0.2)

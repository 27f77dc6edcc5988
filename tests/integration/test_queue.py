"""The queue with a real redis-server and real worker processes: failures on purpose."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from redactor.clock import utcnow
from redactor.jobs import JobRecord, JobState
from redactor.service.client import JobNotDone, RedactorClient
from redactor.service.redis_jobs import job_key
from redactor.service.requeue import RequeuePolicy, Requeuer, celery_sender
from redactor.service.settings import ServiceSettings
from redactor.storage import keys
from redactor.task_message import TASK_NAME, TaskMessage
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.integration.queue_records import FACE, create_queued_record, tenant
from tests.support import shared_image

pytestmark = [pytest.mark.redis, pytest.mark.slow]

JOB_TIMEOUT = 60.0


def send_raw(client: RedactorClient, payload: object, *, task_id: str) -> None:
    client.producer.send_task(TASK_NAME, args=[payload], task_id=task_id, queue="redactor")


# --- poisoned messages ---


@pytest.mark.timeout(180)
def test_given_poisoned_messages_then_each_job_fails_with_reason_and_worker_continues(
    client: RedactorClient,
) -> None:
    tenant_id = tenant()
    bad_json = create_queued_record(client, tenant_id, store_original=True)
    send_raw(client, '{"v": 1, "job_id": ', task_id=bad_json)

    unknown_version = create_queued_record(client, tenant_id, store_original=True)
    message = json.loads(
        TaskMessage.for_job(unknown_version, tenant_id, FAST_OPTIONS).model_dump_json()
    )
    send_raw(client, json.dumps({**message, "v": 2}), task_id=unknown_version)

    missing_upload = create_queued_record(client, tenant_id, store_original=False)
    good_message = TaskMessage.for_job(missing_upload, tenant_id, FAST_OPTIONS)
    send_raw(client, good_message.model_dump_json(), task_id=missing_upload)

    not_a_string = create_queued_record(client, tenant_id, store_original=True)
    send_raw(client, {"v": 1}, task_id=not_a_string)

    after = client.submit(shared_image(FACE), tenant=tenant_id, options=FAST_OPTIONS)

    expected = {
        bad_json: "invalid_message",
        unknown_version: "invalid_message",
        missing_upload: "missing_upload",
        not_a_string: "invalid_message",
    }
    for job_id, code in expected.items():
        record = client.wait(job_id, JOB_TIMEOUT)
        assert (record.state, record.failure_code) == (JobState.FAILED, code), job_id
        assert record.failure_message
        with pytest.raises(JobNotDone, match=code):
            client.result(job_id)
    assert "v: Input should be 1" in (client.status(unknown_version).failure_message or "")
    assert client.wait(after, JOB_TIMEOUT).state is JobState.DONE
    assert client.result(after)
    assert list(client.storage.list(f"results/{tenant_id}/")) != []
    assert not any(
        item.key.split("/")[-1].startswith(tuple(expected))
        for item in client.storage.list(f"results/{tenant_id}/")
    )


# --- a worker killed mid-task ---


class PublicationWatcher(threading.Thread):
    """Polls a job while it runs: what a reader could see before and after publication."""

    def __init__(self, client: RedactorClient, job_id: str, tenant_id: str) -> None:
        super().__init__(daemon=True)
        self.client, self.job_id, self.tenant_id = client, job_id, tenant_id
        self.stopped = threading.Event()
        self.early_results: list[str] = []
        self.seen_digests: set[str] = set()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            state = self.client.status(self.job_id).state
            if state is not JobState.DONE:
                try:
                    self.client.result(self.job_id)
                    self.early_results.append(state.value)
                except JobNotDone:
                    pass
            for item in self.client.storage.list(f"results/{self.tenant_id}/"):
                self.seen_digests.add(hashlib.sha256(self.client.storage.get(item.key)).hexdigest())


def wait_for_state(client: RedactorClient, job_id: str, state: JobState, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while client.status(job_id).state is not state:
        assert time.monotonic() < deadline, f"job never reached {state}"
        time.sleep(0.05)


@pytest.mark.timeout(240)
def test_given_worker_killed_mid_task_then_job_is_redelivered_and_published_once(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    env = isolated_env(
        task_soft_time_limit="8",
        task_time_limit="10",
        visibility_timeout="12",
        test_task_delay="2",
    )
    doomed = env.start_worker("doomed")
    tenant_id = tenant()
    with env.client() as client:
        job_id = client.submit(shared_image(FACE), tenant=tenant_id, options=FAST_OPTIONS)
        wait_for_state(client, job_id, JobState.PROCESSING, timeout=60)
        watcher = PublicationWatcher(client, job_id, tenant_id)
        watcher.start()
        doomed.kill()  # SIGKILL to the worker and its pool process, mid-task
        env.start_worker("rescuer")
        record = client.wait(job_id, timeout=120)
        watcher.stopped.set()
        watcher.join()
        result = client.result(job_id)
        listed = [item.key for item in client.storage.list(f"results/{tenant_id}/")]

    assert record.state is JobState.DONE
    assert record.attempts == 2  # the killed attempt, then the redelivered one
    assert listed == [record.result_key]
    digest = hashlib.sha256(result).hexdigest()
    assert client.report(job_id)["output"]["sha256"] == digest
    assert watcher.early_results == []
    assert watcher.seen_digests <= {digest}
    assert not list((env.root / "storage" / "results").rglob(".tmp-*"))


@pytest.mark.timeout(120)
def test_given_task_over_its_soft_time_limit_then_job_fails_with_timeout(
    isolated_env: Callable[..., QueueEnv],
) -> None:
    env = isolated_env(
        task_soft_time_limit="2", task_time_limit="5", visibility_timeout="7", test_task_delay="4"
    )
    env.start_worker("slow")
    with env.client() as client:
        job_id = client.submit(shared_image(FACE), tenant=tenant(), options=FAST_OPTIONS)
        record = client.wait(job_id, timeout=60)
    assert (record.state, record.failure_code) == (JobState.FAILED, "timeout"), record


# --- Redis restarted during a batch ---

BATCH = [
    "exif_iphone_gps.heic",
    "face_group_selfie.jpg",
    "exif_iphone_orient6_arrow.heic",
    "face_portrait_studio.png",
    "doc_handwritten_form_iphone.jpg",
    "face_crowd_fans.jpg",
    "plate_cn_closeup_really_png.jpg",
    "face_two_nikon_exif.jpg",
    "exif_iphone_gps.heic",
    "face_holding_award.jpg",
    "exif_canon_gps_serial_artist.jpg",
    "face_sunglasses_walking.jpg",
]


@pytest.mark.timeout(300)
def test_given_redis_restarted_mid_batch_then_workers_reconnect_and_every_job_completes(
    client: RedactorClient, queue_env: QueueEnv
) -> None:
    tenant_id = tenant()
    job_ids = [
        client.submit(shared_image(name), tenant=tenant_id, options=FAST_OPTIONS) for name in BATCH
    ]
    wait_for_state(client, job_ids[0], JobState.DONE, timeout=60)
    assert sum(not client.status(j).finished for j in job_ids) > 2, "batch ended too soon"

    queue_env.redis.kill()  # a crash, not a clean shutdown
    time.sleep(1.0)
    queue_env.redis.start()

    # A crash can lose a message Celery was moving from the queue to its unacked hash;
    # the retention sweep sends such tasks again (here with short thresholds).
    records = _wait_sweeping(client, queue_env.settings(), job_ids, timeout=150)
    assert [r.state for r in records] == [JobState.DONE] * len(BATCH)
    assert all(client.result(r.job_id) for r in records)
    after = client.submit(shared_image(FACE), tenant=tenant_id, options=FAST_OPTIONS)
    assert client.wait(after, timeout=60).state is JobState.DONE


def _wait_sweeping(
    client: RedactorClient, settings: ServiceSettings, job_ids: list[str], timeout: float
) -> list[JobRecord]:
    policy = RequeuePolicy(queued_after=timedelta(seconds=5), processing_after=timedelta(minutes=1))
    requeuer = Requeuer(
        client.jobs.client,  # type: ignore[attr-defined]
        client.jobs,
        celery_sender(client.producer),
        settings.queue_for,
        policy,
    )
    deadline = time.monotonic() + timeout
    while not all(client.status(job_id).finished for job_id in job_ids):
        assert time.monotonic() < deadline, "jobs did not finish after the Redis restart"
        requeuer.requeue_lost(utcnow())
        time.sleep(2.0)
    return [client.status(job_id) for job_id in job_ids]


# --- a producer that is not Python ---


def raw_celery_envelope(job_id: str, message: str) -> str:
    """The Celery protocol-2 JSON envelope as docs/task-schema.md spells it out."""
    body = json.dumps([[message], {}, {"callbacks": None, "errbacks": None, "chain": None}])
    return json.dumps(
        {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "js",
                "task": TASK_NAME,
                "id": job_id,
                "root_id": job_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
            },
            "properties": {
                "correlation_id": job_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": "redactor"},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


@pytest.mark.timeout(120)
def test_given_raw_redis_message_and_stored_file_then_job_is_created_and_done(
    queue_env: QueueEnv,
) -> None:
    """What a producer in another language does: write the file, LPUSH one message."""
    tenant_id, job_id = tenant(), keys.new_upload_id()
    storage_root = Path(queue_env.fields()["storage_dir"])
    original = storage_root / "originals" / tenant_id / job_id
    original.parent.mkdir(parents=True)
    original.write_bytes(shared_image(FACE).read_bytes())
    message = json.dumps(
        {
            "v": 1,
            "job_id": job_id,
            "tenant": tenant_id,
            "original_key": f"originals/{tenant_id}/{job_id}",
        }
    )
    raw = redis.Redis.from_url(queue_env.redis_url, decode_responses=True)

    raw.lpush("redactor", raw_celery_envelope(job_id, message))

    deadline = time.monotonic() + 60
    while raw.hget(job_key(job_id), "state") not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    fields = raw.hgetall(job_key(job_id))
    assert fields["state"] == "done", fields.get("failure_message")
    assert (storage_root / fields["result_key"]).is_file()
    assert json.loads(fields["counts"])["face"] >= 1
    report = json.loads((storage_root / fields["report_key"]).read_bytes())
    assert report["counts"] == json.loads(fields["counts"])

"""Scale-out end to end: workers that share nothing but Redis and an S3-compatible store.

The store is moto's standalone server (``python -m moto.server``, from the PyPI package
``moto[server]``) on a loopback port, started by the ``moto_server`` fixture: this is
what CI runs in place of AWS S3, MinIO or Ceph. Originals are encrypted at rest. Each
worker has its own scratch folder and a local storage folder that never exists, as if
on a host of its own. Jobs that read text go to the OCR queue, which only w2 consumes.

The queue and retention end-to-end tests are collected here a second time, unchanged:
the fixtures they ask for by name (``queue_env``, ``client``, ``fresh_env``) are the S3
ones in this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from redactor.cli.scale import queues
from redactor.http.metrics import ApiMetrics
from redactor.jobs import JobState
from redactor.options import PipelineOptions
from redactor.service.client import RedactorClient
from redactor.service.queues import queue_stats
from redactor.storage import keys
from redactor.storage.encrypted import MAGIC
from redactor.storage.s3 import S3Storage
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.e2e import test_queue_e2e as queue_e2e
from tests.e2e import test_retention_e2e as retention_e2e
from tests.integration import conftest as queue_fixtures
from tests.integration.conftest import OCR_QUEUE
from tests.support import shared_image

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# The S3 worlds under the names the tests ask for; pytest finds fixtures by these names.
redis_server = queue_fixtures.redis_server
moto_server = queue_fixtures.moto_server
queue_env = queue_fixtures.s3_queue_env
fresh_env = queue_fixtures.s3_fresh_env
client = queue_fixtures.client

# The end-to-end tests of local storage, collected again here to run on S3.
test_round_trip_on_s3 = (
    queue_e2e.test_given_twenty_mixed_uploads_then_good_ones_are_redacted_and_bad_one_fails
)
test_example_script_on_s3 = queue_e2e.test_example_script_submits_from_a_separate_process
test_retention_on_s3 = (
    retention_e2e.test_given_beat_every_second_then_deletions_are_at_most_one_interval_late
)

BATCH = [
    "face_group_selfie.jpg",
    "face_crowd_fans.jpg",
    "face_holding_award.jpg",
    "face_portrait_closeup.jpg",
    "face_profiles_two_men.jpg",
    "face_sunglasses_walking.jpg",
    "face_wearing_cap_glasses.jpg",
    "face_portrait_studio.png",
]
RECEIPT = "receipt_restaurant_small.jpeg"
TEXT_OPTIONS = PipelineOptions(codes=False)
WORKERS = ("w1", "w2")


def claimed_by(env: QueueEnv, job_ids: list[str]) -> dict[str, set[str]]:
    """The jobs each worker's log says it claimed."""
    logs = {name: (env.root / f"{name}.log").read_text(errors="replace") for name in WORKERS}
    return {name: {j for j in job_ids if f"job {j} claimed" in log} for name, log in logs.items()}


@pytest.mark.timeout(300)
def test_given_two_workers_without_a_shared_disk_then_both_redact_the_batch(
    queue_env: QueueEnv, client: RedactorClient
) -> None:
    tenant = "scale-out"
    job_ids = [client.submit(shared_image(n), tenant=tenant, options=FAST_OPTIONS) for n in BATCH]

    records = [client.wait(job_id, timeout=240) for job_id in job_ids]

    assert [r.state for r in records] == [JobState.DONE] * len(BATCH)
    claimed = claimed_by(queue_env, job_ids)
    assert all(claimed.values()), claimed
    assert set().union(*claimed.values()) == set(job_ids)
    for name in WORKERS:
        disk = queue_env.private_disk(name)
        assert not Path(disk["storage_dir"]).exists()
        assert [p for p in Path(disk["scratch_dir"]).rglob("*") if p.is_file()] == []
    assert not (queue_env.root / "storage").exists()
    s3_config = client.settings.s3_config()
    assert s3_config is not None
    raw = S3Storage(s3_config)
    for job_id, record in zip(job_ids, records, strict=True):
        assert raw.get(keys.original_key(tenant, job_id)).startswith(MAGIC)
        assert record.result_key is not None
        assert raw.get(record.result_key) == client.result(job_id)  # results stay plain


@pytest.mark.timeout(300)
def test_given_an_ocr_queue_then_text_jobs_go_there_and_each_queue_counts_its_own(
    queue_env: QueueEnv, client: RedactorClient
) -> None:
    counters = redis.Redis.from_url(queue_env.redis_url, decode_responses=True)
    before = {s.queue: s.finished.get("done", 0) for s in queue_stats(counters, [])}
    receipt, face = shared_image(RECEIPT), shared_image(BATCH[0])
    text_jobs = [client.submit(receipt, tenant="routing", options=TEXT_OPTIONS) for _ in range(2)]
    face_jobs = [client.submit(face, tenant="routing", options=FAST_OPTIONS) for _ in range(2)]

    records = [client.wait(job_id, timeout=240) for job_id in [*text_jobs, *face_jobs]]

    assert [r.state for r in records] == [JobState.DONE] * 4
    assert any(k.startswith("pii.") for k in client.report(text_jobs[0])["counts"])
    assert claimed_by(queue_env, text_jobs)["w2"] == set(text_jobs)
    after = {s.queue: s.finished.get("done", 0) for s in queue_stats(counters, [])}
    assert after[OCR_QUEUE] - before.get(OCR_QUEUE, 0) == 2
    assert after["redactor"] - before.get("redactor", 0) == 2

    listed = CliRunner().invoke(queues, ["--json"], env=queue_env.variables())
    assert listed.exit_code == 0, listed.output
    by_queue = {row["queue"]: row for row in map(json.loads, listed.output.splitlines())}
    assert set(by_queue) >= {"redactor", OCR_QUEUE, "redactor-retention"}
    assert (by_queue[OCR_QUEUE]["waiting"], by_queue[OCR_QUEUE]["finished"]["done"]) == (
        0,
        after[OCR_QUEUE],
    )
    scraped = ApiMetrics(counters, "redactor").render().decode()
    assert f'redactor_queue_finished_total{{outcome="done",queue="{OCR_QUEUE}"}} ' in scraped
    assert f'redactor_queue_waiting{{queue="{OCR_QUEUE}"}} 0.0' in scraped

"""Erasure on request against a real redis-server: while queued, while processing, after
the output is written, twice, after the eraser died, and for another tenant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from redactor.audit import Reason
from redactor.jobs import JobState
from redactor.service.redis_jobs import job_key
from redactor.storage import LocalStorage, keys
from redactor.task_message import TaskMessage
from testkit.services import FAST_OPTIONS
from tests.integration import retention_world
from tests.integration.retention_world import (
    REDACTED,
    TOMBSTONE_FIELDS,
    FakePipeline,
    World,
    summary,
)

pytestmark = [pytest.mark.redis]


#: The shared retention world, found by name.
world = retention_world.world


# --- erasure ---


def assert_nothing_remains(world: World, job_id: str) -> None:
    """In storage nothing; in Redis only the tombstone and its audit trail."""
    assert world.held() == []
    fields = world.raw.hgetall(job_key(job_id))
    assert fields["state"] == "erased"
    assert set(fields) <= TOMBSTONE_FIELDS
    assert "options" not in fields and "counts" not in fields
    assert world.indexed(job_id) == {"original": None, "result": None, "leases": 0}
    assert not list((world.env.root / "scratch").rglob("*-*"))  # no task scratch folder


def test_given_erasure_while_queued_then_the_worker_later_brings_nothing_back(
    world: World,
) -> None:
    job_id = world.upload()

    report = world.client.erase(job_id)
    outcome = world.run(job_id)

    assert (report.erased_now, report.deleted, outcome) == (True, ("original",), "skipped")
    assert_nothing_remains(world, job_id)
    assert summary(world.events(job_id)) == [
        ("erased", "record", "erasure"),
        ("deleted", "original", "erasure"),
    ]


def test_given_erasure_while_processing_then_no_output_is_written(world: World) -> None:
    holder: dict[str, str] = {}
    pipeline = FakePipeline(REDACTED, during_run=lambda: world.client.erase(holder["job"]))
    holder["job"] = world.upload()

    assert world.run(holder["job"], pipeline) == "skipped"

    assert_nothing_remains(world, holder["job"])


class EraseAfterWrites(LocalStorage):
    """Erases the upload right after the worker wrote its report, before it publishes."""

    def __init__(self, root: Path, erase: Callable[[], object]) -> None:
        super().__init__(root)
        self.erase = erase

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data)
        if key.startswith(keys.REPORTS):
            self.erase()


def test_given_erasure_after_output_is_written_then_the_worker_deletes_it(
    world: World,
) -> None:
    job_id = world.upload()
    storage = EraseAfterWrites(world.storage.root, lambda: world.client.erase(job_id))
    message = TaskMessage.for_job(job_id, "acme", FAST_OPTIONS).model_dump_json()

    assert world.processor(FakePipeline(REDACTED), storage).process(message) == "skipped"

    assert_nothing_remains(world, job_id)


def test_given_done_upload_erased_twice_then_everything_goes_and_is_audited_once(
    world: World,
) -> None:
    job_id = world.upload()
    world.run(job_id)

    first, second = world.client.erase(job_id), world.client.erase(job_id)

    assert (first.erased_now, first.deleted) == (True, ("original", "result"))
    assert (second.erased_now, second.deleted) == (False, ())
    assert_nothing_remains(world, job_id)
    assert Counter(summary(world.events(job_id))) == Counter(
        [
            ("erased", "record", "erasure"),
            ("deleted", "original", "erasure"),
            ("deleted", "result", "erasure"),
            ("deleted", "report", "erasure"),
        ]
    )


def test_given_eraser_died_after_the_tombstone_then_the_sweeper_finishes_it(
    world: World,
) -> None:
    """Erased by a bare transition (the deletions never ran): all objects are due now."""
    job_id = world.upload()
    world.run(job_id)

    world.client.jobs.transition(job_id, JobState.ERASED, expected={JobState.DONE})
    assert world.sweep().as_dict()["deleted"] == 2

    assert_nothing_remains(world, job_id)
    assert {e.reason for e in world.events(job_id)} == {Reason.ERASURE}


def test_given_another_tenants_upload_then_erasure_says_not_found(world: World) -> None:
    from redactor.jobs import JobNotFound
    from redactor.service.erasure import erase

    job_id = world.upload()
    with pytest.raises(JobNotFound, match="no upload"):
        erase(world.retention.jobs, world.storage, "intruder", job_id)
    assert world.client.status(job_id).state is JobState.QUEUED

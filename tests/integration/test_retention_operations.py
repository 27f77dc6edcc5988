"""Retention's operator side against a real redis-server: tenant limits, producer
messages with windows, the export, metrics, the command line, and scratch folders."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from redactor.cli.main import cli
from redactor.clock import utcnow
from redactor.jobs import JobState
from redactor.retention import (
    RetentionLimitExceeded,
    max_deletion_lateness,
    overdue_count,
)
from redactor.storage import keys
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.integration import retention_world
from tests.integration.retention_world import (
    DAY,
    HOUR,
    REDACTED,
    TENANT_LIMITS,
    UPLOAD,
    FakePipeline,
    World,
    due_uploads,
)
from tests.support import shared_image

pytestmark = [pytest.mark.redis]


#: The shared retention world, found by name.
world = retention_world.world


# --- limits, producers, export, metrics, command line ---


def test_given_window_over_the_tenant_maximum_then_submit_fails_and_stores_nothing(
    world: World,
) -> None:
    with pytest.raises(RetentionLimitExceeded, match="over this tenant's maximum"):
        world.upload("capped", original_retention=3 * HOUR)
    with pytest.raises(RetentionLimitExceeded, match="result retention"):
        world.upload("acme", result_retention=31 * DAY)  # not listed: defaults are the max
    assert world.held("capped") == [] and world.held() == []
    capped = world.client.status(world.upload("capped"))
    assert capped.original_deadline - capped.timestamps[JobState.RECEIVED] == 2 * HOUR


def test_given_producer_messages_with_windows_then_the_worker_applies_or_refuses_them(
    world: World,
) -> None:
    processor = world.processor(FakePipeline(REDACTED))
    window_0, too_long = keys.new_upload_id(), keys.new_upload_id()
    for job_id in (window_0, too_long):
        world.storage.put(keys.original_key("capped", job_id), UPLOAD)
    base = {"v": 1, "tenant": "capped"}

    def message(job_id: str, **windows: int) -> str:
        return json.dumps(
            {**base, "job_id": job_id, "original_key": f"originals/capped/{job_id}", **windows}
        )

    assert processor.process(message(window_0, original_retention=0)) == "done"
    assert processor.process(message(too_long, result_retention=2 * 86400)) == "skipped"

    assert world.client.status(window_0).original_until_finished
    assert keys.original_key("capped", window_0) not in world.held("capped")
    refused = world.client.status(too_long)
    assert (refused.state, refused.failure_code) == (JobState.FAILED, "invalid_message")
    assert "result retention" in (refused.failure_message or "")


def test_export_lists_every_object_held_with_times_and_nothing_personal(world: World) -> None:
    from redactor.service.erasure import export

    done = world.upload()
    world.run(done)
    erased = world.upload()
    world.client.erase(erased)
    orphan = keys.new_upload_id()
    world.storage.put(keys.original_key("acme", orphan), UPLOAD)

    data = export(
        world.retention.jobs,
        world.storage,
        "acme",
        policy=world.retention.policy,
        clock=world.clock,
    )

    uploads = {u["upload_id"]: u for u in data["uploads"]}
    assert set(uploads) == {done, erased, orphan}
    assert [o["kind"] for o in uploads[done]["objects"]] == ["original", "result", "report"]
    assert uploads[done]["state"] == "done"
    assert uploads[erased] == {**uploads[erased], "state": "erased", "objects": []}
    assert uploads[orphan]["state"] is None and len(uploads[orphan]["objects"]) == 1
    record = world.client.status(done)
    original = uploads[done]["objects"][0]
    assert original["delete_by"] == record.original_deadline.isoformat()
    assert datetime.fromisoformat(original["stored_at"]) <= utcnow()
    assert set(original) == {"kind", "stored_at", "delete_by"}
    assert b"bytes" not in json.dumps(data).encode()


def test_metrics_count_overdue_items_and_report_the_worst_lateness(world: World) -> None:
    due_uploads(world, 3)
    world.clock.advance(timedelta(seconds=30))  # the sweep comes 30 s after the deadlines
    since = world.clock() - DAY

    assert overdue_count(world.retention.index, world.clock()) == 3
    assert max_deletion_lateness(world.retention.audit, since) is None
    world.sweep()

    assert overdue_count(world.retention.index, world.clock()) == 0
    assert max_deletion_lateness(world.retention.audit, since) == 30.0


def run_cli(world: World, *args: str) -> str:
    variables = {
        **world.env.variables(),
        "REDACTOR_TENANT_LIMITS": json.dumps(TENANT_LIMITS),
    }
    result = CliRunner().invoke(cli, list(args), env=variables, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_command_line_sweep_erase_export_and_audit(world: World) -> None:
    erased, kept = world.upload(), world.upload()
    expired = world.upload(original_retention=timedelta(seconds=1))
    time.sleep(1.1)  # the command line runs on the real clock

    dry = json.loads(run_cli(world, "sweep", "--dry-run"))
    assert dry["overdue"] == 1
    assert dry["due"] == [{"target": "original", "upload_id": expired}]
    assert json.loads(run_cli(world, "sweep"))["deleted"] == 1
    erasure = json.loads(run_cli(world, "erase", erased, "--tenant", "acme"))
    assert erasure == {
        "upload_id": erased,
        "tenant": "acme",
        "erased_now": True,
        "deleted": ["original"],
    }
    exported = json.loads(run_cli(world, "export", "--tenant", "acme"))
    assert {u["upload_id"] for u in exported["uploads"]} == {erased, kept, expired}

    lines = [json.loads(line) for line in run_cli(world, "audit", "--tenant", "acme").splitlines()]
    assert [(e["upload_id"], e["event"], e["reason"]) for e in lines] == [
        (expired, "deleted", "retention"),
        (erased, "erased", "erasure"),
        (erased, "deleted", "erasure"),
    ]
    assert lines[0]["lateness_seconds"] >= 0
    only_erased = run_cli(world, "audit", "--upload", erased).splitlines()
    assert len(only_erased) == 2
    future = (utcnow() + HOUR).isoformat()
    assert run_cli(world, "audit", "--since", future) == ""
    stats = json.loads(run_cli(world, "audit", "--stats"))
    assert (stats["overdue"], stats["deletions"]) == (0, 2)


def test_command_line_erase_of_unknown_upload_fails_clearly(world: World) -> None:
    variables = world.env.variables()
    result = CliRunner().invoke(
        cli, ["erase", keys.new_upload_id(), "--tenant", "acme"], env=variables
    )
    assert result.exit_code == 1
    assert "has no upload" in result.output


# --- scratch folders ---


def test_given_task_raises_then_its_scratch_folder_is_removed_anyway(world: World) -> None:
    def explode() -> None:
        assert list((world.env.root / "scratch").rglob("*-*")), "no scratch folder during run"
        raise RuntimeError("a bug in the pipeline")

    job_id = world.upload()
    with pytest.raises(RuntimeError):
        world.run(job_id, FakePipeline(REDACTED, during_run=explode))
    assert not list((world.env.root / "scratch").rglob("*-*"))


@pytest.mark.timeout(120)
def test_given_leftovers_then_a_worker_clears_its_scratch_folder_when_it_starts(
    fresh_env: Callable[..., QueueEnv],
) -> None:
    env = fresh_env()
    node = env.root / "scratch" / f"sweeper@{os.uname().nodename}"
    leftover = node / "12345" / f"{keys.new_upload_id()}-abc"
    leftover.mkdir(parents=True)
    (leftover / "decoded.ppm").write_bytes(b"pixels of a killed task")
    other_node = env.root / "scratch" / "someone-else@host" / "1"
    other_node.mkdir(parents=True)

    env.start_retention_worker("sweeper")

    assert node.is_dir() and not leftover.exists()
    assert other_node.is_dir()  # never another worker's folder
    log = (env.root / "sweeper.log").read_text()
    assert "redactor.sweep" in log


@pytest.mark.timeout(180)
def test_given_pool_process_killed_mid_task_then_its_replacement_removes_its_scratch(
    fresh_env: Callable[..., QueueEnv],
) -> None:
    """The hard time limit or the OOM killer: no finally runs, the next process cleans."""
    env = fresh_env(
        test_task_delay="3",
        task_soft_time_limit="20",
        task_time_limit="25",
        visibility_timeout="30",
    )
    env.start_worker("reaper")
    node = env.root / "scratch" / f"reaper@{os.uname().nodename}"
    with env.client() as client:
        job_id = client.submit(
            shared_image("face_group_selfie.jpg"), tenant="acme", options=FAST_OPTIONS
        )
        deadline = time.monotonic() + 60
        while not (task_folders := list(node.glob(f"*/{job_id}-*"))):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        os.kill(int(task_folders[0].parent.name), signal.SIGKILL)
        record = client.wait(job_id, timeout=90)

    assert (record.state, record.attempts) == (JobState.DONE, 2)
    assert not task_folders[0].parent.exists()
    assert not list(node.glob(f"*/{job_id}-*"))

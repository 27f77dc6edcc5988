"""Bounded state: records, tombstones and the audit log leave Redis; counts stay cheap.

Each test has a redis-server of its own (so its memory is only this test's) and runs
jobs through the real processor, job store, sweeper and audit archiver with a fake
pipeline and a clock the test moves; the archiver's time spans follow Redis's clock,
which the test waits for.
"""

from __future__ import annotations

import gzip
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from redactor.audit import AuditAction, AuditEvent, AuditFilter
from redactor.audit_segments import decode_segment
from redactor.cli.main import cli
from redactor.jobs import JobNotFound, JobState
from redactor.service.client import JobNotDone
from redactor.service.redis_audit import AUDIT_STREAM, AuditArchiver, Head
from redactor.service.redis_jobs import count_by_state, job_key
from redactor.service.stack import RedisServer
from redactor.storage import keys
from testkit.services import QueueEnv, free_port
from tests.integration.retention_world import FAILED, FakePipeline, World

HOUR = timedelta(hours=1)
GRACE = timedelta(days=2)
#: The archiver cuts a segment every this many events, or at the end of each span.
SEGMENT_EVENTS = 25
SPAN = timedelta(seconds=1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    server = RedisServer(
        data_dir=tmp_path / "redis", port=free_port(), appendfsync="no", log_path=tmp_path / "log"
    )
    server.start()
    overrides = {
        "tombstone_grace": "P2D",
        "audit_segment_events": str(SEGMENT_EVENTS),
        "audit_segment_span": "PT1S",
    }
    made = World(QueueEnv(server, tmp_path / "world", database=0, overrides=overrides))
    try:
        yield made
    finally:
        made.client.close()
        server.stop()


def settle(world: World) -> dict[str, int]:
    """Wait out the current archive span, then sweep (which archives the tail)."""
    time.sleep(SPAN.total_seconds() + 0.1)
    return world.retention.sweep()


def deletions(events: list[AuditEvent]) -> Counter[tuple[str, str]]:
    return Counter((e.upload_id, e.kind.value) for e in events if e.event is AuditAction.DELETED)


def archived_events(world: World) -> list[AuditEvent]:
    """Every event in the stored segments, read straight from storage."""
    events = []
    for stored in world.storage.list(f"{keys.AUDIT}/"):
        events += decode_segment(world.storage.get(stored.key))[1]
    return events


def archived_in_order(world: World) -> list[AuditEvent]:
    stored = sorted(world.storage.list(f"{keys.AUDIT}/"), key=lambda s: keys.segment_number(s.key))
    return [event for s in stored for event in decode_segment(world.storage.get(s.key))[1]]


def key_bytes(world: World) -> int:
    """``MEMORY USAGE`` summed over every key in this Redis."""
    return sum(int(world.raw.memory_usage(key) or 0) for key in world.raw.scan_iter(count=1000))


def used_memory(world: World) -> int:
    return int(world.raw.info("memory")["used_memory"])


def run_jobs(world: World, count: int) -> dict[str, Counter[str]]:
    """``count`` uploads over three tenants: most redacted, some failed (their report
    kept), some with window 0, some erased. Returns the deletions each must cause."""
    expected: dict[str, Counter[str]] = {}
    for n in range(count):
        tenant = ("acme", "globex", "initech")[n % 3]
        windows = {"original_retention": timedelta(0) if n % 4 == 0 else HOUR}
        job_id = world.upload(tenant, result_retention=2 * HOUR, **windows)
        failed = n % 7 == 0
        world.raw.rpop(world.settings.queue)  # a worker takes the task...
        world.run(job_id, FakePipeline(FAILED) if failed else None)  # ...and runs it
        kinds = ["original", "report"] if failed else ["original", "result", "report"]
        expected[job_id] = Counter(kinds)
        if n % 10 == 5:
            world.client.erase(job_id)
    return expected


def test_given_many_jobs_through_their_windows_and_grace_then_redis_is_back_where_it_started(
    world: World,
) -> None:
    """The soak test: memory flat after expiry, every deletion archived once, chain intact."""
    run_jobs(world, 6)  # warm-up: scripts loaded, structures and allocator in use
    world.clock.advance(3 * HOUR + GRACE)
    settle(world)
    start_keys, start_memory = key_bytes(world), used_memory(world)

    expected = run_jobs(world, 150)
    held_keys = key_bytes(world)
    world.clock.advance(3 * HOUR)
    world.retention.sweep()
    assert world.held("acme") == world.held("globex") == world.held("initech") == []
    world.clock.advance(GRACE)
    summary = settle(world)

    assert summary["expired_records"] >= 150
    assert held_keys - start_keys > 150 * 200  # the records were really there
    assert key_bytes(world) <= start_keys * 1.03, (start_keys, key_bytes(world))
    assert used_memory(world) <= start_memory * 1.03, (start_memory, used_memory(world))
    assert world.raw.xlen(AUDIT_STREAM) == 0
    assert all(world.raw.exists(job_key(job_id)) == 0 for job_id in expected)
    assert sum(count_by_state(world.raw).values()) == 0

    archived = [e for e in archived_events(world) if e.upload_id in expected]
    assert deletions(archived) == Counter(
        {(job_id, kind): 1 for job_id, kinds in expected.items() for kind in kinds}
    )
    erased = [e.upload_id for e in archived if e.event is AuditAction.ERASED]
    assert len(erased) == len(set(erased)) == 15
    assert len(list(world.storage.list(f"{keys.AUDIT}/"))) >= len(archived) // SEGMENT_EVENTS
    assert world.retention.audit.verify(world.clock(), world.settings.audit_retention) == []


def test_reading_the_log_joins_segments_and_the_live_tail_in_order(world: World) -> None:
    run_jobs(world, 12)
    settle(world)  # archived
    late = world.upload(original_retention=timedelta(0))
    world.run(late)  # its deletion is in the tail only

    events = list(world.retention.audit.read())

    assert world.raw.xlen(AUDIT_STREAM) == 1
    assert events == [*archived_in_order(world), *world.retention.audit.tail().read()]
    assert (events[-1].upload_id, events[-1].kind.value) == (late, "original")
    assert len({(e.event, e.upload_id, e.kind) for e in events}) == len(events)
    only_acme = list(world.retention.audit.read(AuditFilter(tenant="acme")))
    assert only_acme and {e.tenant for e in only_acme} == {"acme"}


def test_given_an_archiver_that_died_before_recording_then_the_next_writes_the_same_segments(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_jobs(world, 10)
    world.clock.advance(3 * HOUR)
    world.retention.sweep()  # deletes, and archives the spans that are over
    for _ in range(3):  # and these deletions are in the tail for sure
        world.run(world.upload(original_retention=timedelta(0)))
    time.sleep(SPAN.total_seconds() + 0.1)
    head, tail = Head.read(world.raw), world.raw.xlen(AUDIT_STREAM)
    assert tail >= 3
    archived = stored_segments(world)
    before = logged(world)

    def die(*_: object) -> None:
        raise RuntimeError("killed before recording the head")

    with monkeypatch.context() as patched:
        patched.setattr(AuditArchiver, "_commit", die)
        with pytest.raises(RuntimeError):
            world.retention.archiver.archive()
    written = {k: v for k, v in stored_segments(world).items() if k not in archived}
    assert written and (Head.read(world.raw), world.raw.xlen(AUDIT_STREAM)) == (head, tail)
    assert logged(world) == before  # read up to the head only, then the tail

    world.retention.archiver.archive()

    after = stored_segments(world)  # the same bytes again, and maybe later batches
    assert {key: after[key] for key in {**archived, **written}} == {**archived, **written}
    assert logged(world) == before
    assert world.raw.xlen(AUDIT_STREAM) == 0
    assert Counter(deletions(archived_events(world)).values()) == Counter({1: 2 * 2 + 8 * 3 + 3})
    assert world.retention.audit.verify(world.clock(), world.settings.audit_retention) == []


def logged(world: World) -> Counter[str]:
    """The whole log (segments and tail) as a multiset: a segment groups its batch by
    tenant, so archiving changes the order events are read in, never what is read."""
    return Counter(event.to_json() for event in world.retention.audit.read())


def stored_segments(world: World) -> dict[str, bytes]:
    return {s.key: world.storage.get(s.key) for s in world.storage.list(f"{keys.AUDIT}/")}


def verify_cli(world: World) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "--verify"], env=world.env.variables())
    return result.exit_code, result.output


@pytest.mark.parametrize("damage", ["edit", "remove"])
def test_given_a_tampered_or_removed_segment_then_audit_verify_fails(
    world: World, damage: str
) -> None:
    run_jobs(world, 20)
    world.clock.advance(3 * HOUR)
    world.retention.sweep()
    settle(world)
    segments = sorted(s.key for s in world.storage.list(f"{keys.AUDIT}/"))
    assert len(segments) >= 3
    assert verify_cli(world) == (0, '{\n  "problems": [],\n  "verified": true\n}\n')

    victim = segments[1]
    if damage == "edit":
        text = gzip.decompress(world.storage.get(victim)).decode()
        world.storage.put(victim, gzip.compress(text.replace("retention", "erasure").encode()))
    else:
        world.storage.delete(victim)
    code, output = verify_cli(world)

    assert code == 1
    number = keys.segment_number(victim)
    assert f"segment {number}" in output and '"verified": false' in output


def test_given_a_settled_record_then_it_answers_until_its_grace_ends_and_then_404(
    world: World,
) -> None:
    job_id = world.upload(original_retention=HOUR, result_retention=2 * HOUR)
    world.run(job_id)
    assert count_by_state(world.raw)[JobState.DONE] == 1
    world.clock.advance(3 * HOUR)
    world.retention.sweep()

    assert world.client.status(job_id).result_deleted_at is not None  # 410 over HTTP
    with pytest.raises(JobNotDone, match="deleted"):
        world.client.report(job_id)
    world.clock.advance(GRACE - timedelta(seconds=1))
    assert world.retention.sweep()["expired_records"] == 0
    world.clock.advance(timedelta(seconds=1))
    assert world.retention.sweep()["expired_records"] == 1

    with pytest.raises(JobNotFound):
        world.client.status(job_id)
    assert world.retention.jobs.page("acme", limit=10).records == []
    assert count_by_state(world.raw)[JobState.DONE] == 0


def test_given_a_record_that_still_holds_something_then_it_is_never_purged(world: World) -> None:
    queued = world.upload(original_retention=HOUR)  # never runs: stays queued
    done = world.upload(original_retention=HOUR, result_retention=100 * HOUR)
    world.run(done)
    world.clock.advance(10 * HOUR + GRACE)
    world.retention.sweep()

    assert world.client.status(queued).state is JobState.QUEUED
    assert world.client.status(done).result_deleted_at is None
    assert world.client.report(done)["status"] == "redacted"


def test_per_state_counters_follow_every_transition_and_match_a_scan(world: World) -> None:
    run_jobs(world, 14)
    world.upload()  # queued

    counts = count_by_state(world.raw)
    scanned = Counter(
        world.raw.hget(key, "state") for key in world.raw.scan_iter(match=job_key("*"))
    )
    assert {state.value: n for state, n in counts.items() if n} == dict(scanned)
    assert counts[JobState.QUEUED] == 1 and counts[JobState.ERASED] == 1

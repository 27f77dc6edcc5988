"""Clock jumps around the retention sweeper, where the existing tests do not reach.

``tests/integration/test_retention.py::test_given_clock_jumps_back_and_forth_then_nothing_
is_early_and_nothing_missed`` moves the clock back and forth *between* sweeps. These move
it *inside* one: between claiming due items and deleting them, and while a dead
sweeper's leases are outstanding. Each runs against a private redis-server with the real
index, deleter and audit stream; only the clock is scripted.

Promises: nothing is deleted before its deadline by the clock of the process deleting
it; nothing is missed (every item is deleted, and audited, exactly once); a backward
jump only delays, by at most the jump plus one lease.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from redactor.audit import AuditAction, AuditEvent, AuditFilter
from redactor.clock import utcnow
from redactor.retention import Target, overdue_count
from redactor.service.client import RedactorClient
from redactor.service.redis_retention import LEASES, due_key
from redactor.service.retention_setup import Retention, open_retention
from redactor.storage import keys
from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import World, record_figures

pytestmark = [pytest.mark.reliability, pytest.mark.redis]

HOUR = timedelta(hours=1)
UPLOAD = b"bytes of an upload (nothing here decodes them)"
TENANT = "clock"


class Clock:
    """Returns ``first`` for the first ``calls`` calls, then ``then``: a jump mid-sweep."""

    def __init__(self, first: datetime, then: datetime | None = None, calls: int = 1) -> None:
        self.first, self.then, self.calls = first, then or first, calls

    def __call__(self) -> datetime:
        self.calls -= 1
        return self.first if self.calls >= 0 else self.then


@dataclass
class Uploads:
    world: World
    start: datetime
    deadlines: dict[str, datetime]

    def retention(self, clock: Callable[[], datetime], actor: str = "sweeper:1") -> Retention:
        return open_retention(self.world.env.settings(), clock=clock, actor=actor)

    def held(self) -> set[str]:
        storage = self.retention(utcnow).storage
        return {keys.parse_key(item.key).upload_id for item in storage.list(f"{keys.ORIGINALS}/")}

    def deletions(self) -> list[AuditEvent]:
        audit = self.retention(utcnow).audit
        return [e for e in audit.read(AuditFilter()) if e.event is AuditAction.DELETED]


@pytest.fixture
def uploads(world_factory: Callable[..., World]) -> Iterator[Uploads]:
    """Four originals due 1, 2, 3 and 4 hours after a fixed start."""
    world = world_factory("clock")
    start = utcnow()
    client = RedactorClient(world.env.settings(), clock=lambda: start)
    world.clients.append(client)
    deadlines = {}
    for hours in (1, 2, 3, 4):
        job_id = client.submit(
            UPLOAD, tenant=TENANT, options=FAST_OPTIONS, original_retention=hours * HOUR
        )
        deadlines[job_id] = client.status(job_id).original_deadline
    yield Uploads(world, start, deadlines)


def _assert_each_deleted_once_never_early(uploads: Uploads) -> list[AuditEvent]:
    events = uploads.deletions()
    assert Counter(e.upload_id for e in events) == Counter(list(uploads.deadlines))
    assert all(e.at >= uploads.deadlines[e.upload_id] for e in events)
    assert uploads.held() == set()
    return events


def test_given_clock_jumps_back_between_claim_and_delete_then_nothing_goes_and_nothing_is_lost(
    uploads: Uploads,
) -> None:
    start = uploads.start
    jumping = Clock(first=start + 5 * HOUR, then=start + timedelta(minutes=30))
    report = uploads.retention(jumping).sweeper().sweep()

    assert report.outcomes["not_due"] == 4 and report.outcomes["deleted"] == 0
    assert uploads.held() == set(uploads.deadlines)
    raw = uploads.world.raw()
    assert raw.zcard(LEASES) == 0  # handed back, not left leased
    assert raw.zcard(due_key(Target.ORIGINAL)) == 4

    later = uploads.retention(Clock(first=start + 5 * HOUR)).sweeper().sweep()
    assert later.outcomes["deleted"] == 4
    _assert_each_deleted_once_never_early(uploads)


def test_given_clock_jumps_forward_mid_sweep_then_the_rest_is_deleted_by_the_next_sweep(
    uploads: Uploads,
) -> None:
    start = uploads.start
    jumping = Clock(first=start + 2.5 * HOUR, then=start + 6 * HOUR)
    first = uploads.retention(jumping).sweeper().sweep()
    assert first.outcomes["deleted"] == 2  # those due by the clock the sweep claimed with
    assert len(uploads.held()) == 2

    uploads.retention(Clock(first=start + 6 * HOUR)).sweeper().sweep()
    _assert_each_deleted_once_never_early(uploads)


def test_given_dead_sweepers_leases_and_a_clock_thrown_back_then_items_return_after_the_lease(
    uploads: Uploads,
) -> None:
    """A backward jump delays a dead sweeper's items by the jump; it never loses them."""
    start = uploads.start
    dead = uploads.retention(lambda: start + 5 * HOUR, actor="dead:1")
    lease_until = start + 5 * HOUR + dead.lease
    assert len(dead.index.claim_due(start + 5 * HOUR, limit=10, lease_until=lease_until)) == 4

    for offset in (timedelta(0), 2 * HOUR, 5 * HOUR):  # the clock was thrown back 5 hours
        report = uploads.retention(Clock(first=start + offset)).sweeper().sweep()
        assert report.outcomes["deleted"] == 0
        assert uploads.held() == set(uploads.deadlines)
    back_in_time = uploads.retention(lambda: lease_until)
    assert overdue_count(back_in_time.index, lease_until) == 4

    report = back_in_time.sweeper().sweep()
    assert (report.requeued, report.outcomes["deleted"]) == (4, 4)
    events = _assert_each_deleted_once_never_early(uploads)
    assert {e.at for e in events} == {lease_until}  # the first sweep once the lease ended
    record_figures(
        "clock_jumps",
        {
            "jump_back_hours": 5,
            "lease_seconds": dead.lease.total_seconds(),
            "items": len(events),
            "deleted_at": "the first sweep after the lease's end by the clock",
            "delay_added_at_most": "the jump plus one lease",
        },
    )

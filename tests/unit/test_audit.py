"""Audit events: flat fields without personal data, filters, lateness."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from redactor.audit import (
    AuditAction,
    AuditEvent,
    AuditFilter,
    ObjectKind,
    Reason,
    default_actor,
    max_lateness,
)

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
UPLOAD = "AbCdEfGhIjKlMnOpQrStU_"


def event(**changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "event": AuditAction.DELETED,
        "upload_id": UPLOAD,
        "tenant": "acme",
        "kind": ObjectKind.ORIGINAL,
        "reason": Reason.RETENTION,
        "at": T0 + timedelta(seconds=3),
        "by": "host:123",
        "deadline": T0,
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def test_fields_round_trip_as_plain_strings() -> None:
    original = event()
    fields = original.to_fields()
    assert all(isinstance(value, str) for value in fields.values())
    assert AuditEvent.from_fields(fields) == original


def test_event_without_deadline_round_trips_and_has_no_lateness() -> None:
    erased = event(event=AuditAction.ERASED, kind=ObjectKind.RECORD, deadline=None)
    assert "deadline" not in erased.to_fields()
    assert AuditEvent.from_fields(erased.to_fields()) == erased
    assert erased.lateness is None


def test_fields_are_exactly_ids_kinds_reasons_times_and_actor() -> None:
    """Nothing else can carry personal data: no keys, names, addresses or text."""
    assert set(event().to_fields()) == {
        "event",
        "upload_id",
        "tenant",
        "kind",
        "reason",
        "at",
        "by",
        "deadline",
    }


def test_json_line_adds_lateness_in_seconds() -> None:
    line = json.loads(event().to_json())
    assert line["lateness_seconds"] == 3.0
    assert line["at"] == (T0 + timedelta(seconds=3)).isoformat()


def test_times_are_written_in_utc_whatever_zone_they_came_in() -> None:
    local = T0.astimezone(timezone(timedelta(hours=2)))
    assert event(at=local).to_fields()["at"] == T0.isoformat()


@pytest.mark.parametrize(
    ("where", "matches"),
    [
        (AuditFilter(), True),
        (AuditFilter(tenant="acme"), True),
        (AuditFilter(tenant="other"), False),
        (AuditFilter(upload_id=UPLOAD), True),
        (AuditFilter(upload_id="x" * 22), False),
        (AuditFilter(since=T0 + timedelta(seconds=3)), True),
        (AuditFilter(since=T0 + timedelta(seconds=4)), False),
        (AuditFilter(until=T0 + timedelta(seconds=3)), False),
        (AuditFilter(until=T0 + timedelta(seconds=4)), True),
    ],
)
def test_filter(where: AuditFilter, matches: bool) -> None:
    assert where.matches(event()) is matches


def test_max_lateness_is_the_worst_and_ignores_events_without_deadline() -> None:
    events = [
        event(at=T0 + timedelta(seconds=2)),
        event(at=T0 + timedelta(seconds=9)),
        event(event=AuditAction.ERASED, deadline=None, at=T0 + timedelta(days=1)),
    ]
    assert max_lateness(events) == timedelta(seconds=9)
    assert max_lateness([]) is None


def test_default_actor_names_host_and_process_only() -> None:
    assert default_actor() == f"{socket.gethostname()}:{os.getpid()}"

"""The clock every time-dependent part takes as a parameter, so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: Returns the current time, timezone-aware UTC. Injected everywhere so tests move time.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)

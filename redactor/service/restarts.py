"""When ``redactor up`` restarts a child that exited: backoff, and when to give up.

Pure bookkeeping with times passed in, so the rules are tested without processes. A
child that exits is restarted after 1 s, then 2, 4, ... up to 30 s while it keeps
exiting soon after each start; one that ran for a minute before it exited starts the
sequence again. Five quick exits in a row mean the child cannot run here (a port in
use, a damaged model file, an unreadable append-only file): ``up`` then stops with an
error naming it rather than restart it for ever.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    #: A child that ran this long (seconds) before exiting was healthy: back to the first delay.
    healthy_after: float = 60.0
    #: Quick exits in a row (each within ``healthy_after`` of its start) before giving up.
    max_quick_exits: int = 5

    def delay(self, quick_exits: int) -> float:
        """Seconds before the restart that follows the ``quick_exits``-th exit in a row."""
        return min(self.max_delay, self.first_delay * 2.0 ** max(0, quick_exits - 1))


@dataclass
class Restarts:
    """One child's restart state: when it started, its run of quick exits, what is due."""

    policy: RestartPolicy
    started_at: float = 0.0
    quick_exits: int = 0
    #: When the pending restart is due (``None``: the child is meant to be running).
    due_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now
        self.due_at = None

    def exited(self, now: float) -> float:
        """Record an exit (or a failed start) at ``now``; returns the delay before restarting."""
        if now - self.started_at >= self.policy.healthy_after:
            self.quick_exits = 0
        self.quick_exits += 1
        delay = self.policy.delay(self.quick_exits)
        self.due_at = now + delay
        return delay

    @property
    def gave_up(self) -> bool:
        return self.quick_exits >= self.policy.max_quick_exits

    def due(self, now: float) -> bool:
        return self.due_at is not None and now >= self.due_at


def describe_exit(returncode: int | None) -> str:
    """``exited with status 1``, ``killed by SIGKILL``: for the log line naming the child."""
    if returncode is None:
        return "is gone"
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"

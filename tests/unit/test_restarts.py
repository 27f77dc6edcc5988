"""The restart rules of ``redactor up``: backoff, reset after a healthy run, giving up."""

from __future__ import annotations

import signal

import pytest

from redactor.service.restarts import RestartPolicy, Restarts, describe_exit

POLICY = RestartPolicy(first_delay=1.0, max_delay=30.0, healthy_after=60.0, max_quick_exits=5)


@pytest.mark.parametrize(
    ("quick_exits", "delay"), [(0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0)]
)
def test_delay_doubles_up_to_the_cap(quick_exits: int, delay: float) -> None:
    assert POLICY.delay(quick_exits) == delay


def test_given_quick_exits_then_delays_grow_until_it_gives_up() -> None:
    state = Restarts(POLICY)
    state.started(0.0)
    delays = []
    now = 0.0
    while not state.gave_up:
        now += 5.0
        delays.append(state.exited(now))
        assert state.due(now + delays[-1]) and not state.due(now + delays[-1] - 0.01)
        now += delays[-1]
        state.started(now)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert state.quick_exits == 5


def test_given_a_healthy_run_then_the_next_exit_starts_the_backoff_again() -> None:
    state = Restarts(POLICY)
    state.started(0.0)
    assert [state.exited(t) for t in (1.0, 2.0, 3.0)] == [1.0, 2.0, 4.0]
    state.started(10.0)
    assert state.exited(10.0 + 60.0) == 1.0
    assert state.quick_exits == 1 and not state.gave_up


def test_a_started_child_has_nothing_due() -> None:
    state = Restarts(POLICY)
    state.exited(1.0)
    state.started(2.0)
    assert state.due_at is None and not state.due(1e9)


@pytest.mark.parametrize(
    ("returncode", "text"),
    [
        (0, "exited with status 0"),
        (1, "exited with status 1"),
        (-signal.SIGKILL, "killed by SIGKILL"),
        (-signal.SIGSEGV, "killed by SIGSEGV"),
        (-200, "killed by signal 200"),
        (None, "is gone"),
    ],
)
def test_describe_exit_names_the_status_or_signal(returncode: int | None, text: str) -> None:
    assert describe_exit(returncode) == text

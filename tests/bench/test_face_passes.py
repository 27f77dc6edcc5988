"""bench.face_passes' timer: a pass's own time excludes its nested passes, model
calls go to the pass that made them."""

from __future__ import annotations

import time

from bench.face_passes import PassTimer


def test_given_nested_passes_then_each_keeps_its_own_time_and_its_model_calls() -> None:
    timer = PassTimer()
    model = timer.model_call("family", lambda frames: time.sleep(0.2))
    inner = timer.span("inner", lambda: model([1, 2]))

    def outer_body() -> None:
        time.sleep(0.01)
        inner()

    outer = timer.span(lambda: "outer", outer_body)
    outer()
    taken = timer.take()
    model_ms, other_ms, calls, frames = taken["inner"]
    assert model_ms >= 200 and other_ms < model_ms and (calls, frames) == (1, 2)
    model_ms, other_ms, calls, frames = taken["outer"]
    assert model_ms == 0 and 10 <= other_ms < 100 and calls == 0
    assert timer.take() == {}

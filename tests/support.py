"""Helpers shared by every test layer (fixtures live in conftest.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

from testkit.paths import ROOT as ROOT
from testkit.paths import SHARED_IMAGES as SHARED_IMAGES
from testkit.paths import shared_path

DATA = Path(__file__).resolve().parent / "data"


def shared_image(name: str) -> Path:
    """A public test image (read-only; copy it before writing anything near it)."""
    try:
        return shared_path(name)
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


def face_boxes() -> dict[str, list[list[int]]]:
    data = json.loads((DATA / "face_boxes.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def astronaut_png() -> bytes:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "PNG")
    return buffer.getvalue()


def load_image_bytes(name: str) -> bytes:
    if name == "skimage:astronaut":
        return astronaut_png()
    return shared_image(name).read_bytes()


def decode_rgb(data: bytes) -> np.ndarray:
    """Upright RGB pixels of encoded bytes, decoded independently of redactor."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def record_image_shapes(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str
) -> list[tuple[int, ...]]:
    """The shapes of the images ``module.name`` is called with from now on (it still
    runs): what a shared computation was given, and how often."""
    seen: list[tuple[int, ...]] = []
    real = getattr(module, name)

    def recording(image: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        seen.append(image.shape)
        return real(image, *args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return seen

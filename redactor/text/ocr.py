"""The OCR plugin boundary: one small protocol, the plain records engines return, and how
an engine is asked to run (device, threads, precision). The registry of engines is
:mod:`redactor.text.engines`; this module never imports an implementation.

PII rules only ever see :class:`OcrLine` and :class:`OcrWord`; which engine produced
them is invisible past this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from redactor.findings import RGBImage
from redactor.geometry import Box

log = logging.getLogger(__name__)

#: Where an engine should run: ``auto`` is CUDA when the engine's runtime has a device.
Device = Literal["auto", "cpu", "cuda"]
#: Which weights an engine's networks run with: ``fp32`` the wheel's own, ``int8``
#: RapidOCR's text detector quantised (``models/weights/ppocr-det-int8.onnx``, 3-5x
#: faster on a CPU with VNNI, but it misses some small print: a speed lever, not the
#: default), ``int8-proposal`` quantised in two-scale detection's proposal pass only
#: (which only decides where to look) and float where lines are boxed (a job's
#: default). Engines without quantised weights always run ``fp32``. A job chooses it
#: with :attr:`redactor.options.PipelineOptions.ocr_precision`; an engine built without
#: settings runs ``fp32``.
Precision = Literal["fp32", "int8", "int8-proposal"]


class MalformedOcrOutput(ValueError):
    """An engine returned something its adapter cannot read; the message names no text."""


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One word as read, with its axis-aligned box in image coordinates."""

    text: str
    box: Box
    confidence: float

    def scaled(self, factor: float) -> OcrWord:
        return replace(self, box=self.box.times(factor))

    def shifted(self, dx: float, dy: float) -> OcrWord:
        return replace(self, box=self.box.shifted(dx, dy))


@dataclass(frozen=True, slots=True)
class OcrLine:
    """A run of text the engine read as one piece, its words left to right."""

    text: str
    box: Box
    confidence: float
    words: tuple[OcrWord, ...]

    def scaled(self, factor: float) -> OcrLine:
        """The line in a coordinate system scaled by ``factor`` (e.g. back to full size)."""
        return OcrLine(
            self.text,
            self.box.times(factor),
            self.confidence,
            tuple(w.scaled(factor) for w in self.words),
        )

    def shifted(self, dx: float, dy: float) -> OcrLine:
        """The line in a coordinate system whose origin is ``(-dx, -dy)`` (a crop's parent)."""
        return OcrLine(
            self.text,
            self.box.shifted(dx, dy),
            self.confidence,
            tuple(w.shifted(dx, dy) for w in self.words),
        )


class OcrEngine(Protocol):
    """Reads text from one upright RGB image.

    ``name`` is the registry name, ``version`` identifies engine and weights for reports.
    Engines are built once per process and must be safe to call repeatedly.

    ``frame`` is the (height, width) of the whole image when ``image`` is a region of
    it: an engine that rescales for detection must scale the region as it would have
    scaled the whole image, so that a region finds what the whole image would.
    """

    name: str
    version: str

    def read(
        self, image: RGBImage, *, frame: tuple[int, int] | None = None
    ) -> Sequence[OcrLine]: ...


@dataclass(frozen=True, slots=True)
class TextMap:
    """Where a detector sees text in an image it was shown on a small canvas: a text
    probability per canvas pixel, and the image pixels per canvas pixel (x, y)."""

    probability: npt.NDArray[np.float32]
    to_image: tuple[float, float]


@runtime_checkable
class TextProposer(Protocol):
    """An engine that can also look for text cheaply, on a small canvas: the first pass
    of two-scale detection (:func:`redactor.text.reading.read_text`). Engines without it
    always detect on the whole image."""

    def detection_scale(self, frame: tuple[int, int]) -> float:
        """Canvas pixels per image pixel at which a whole image of ``frame`` (height,
        width) is detected by :meth:`OcrEngine.read`."""
        ...

    def propose(self, image: RGBImage, *, scale: float) -> TextMap:
        """The detector's text probability for ``image`` scaled by ``scale``."""
        ...


_preferred_device: Device = "cpu"


def prefer_device(device: Device) -> None:
    """Run engines built from now on in this process on ``device`` (a worker's setting).

    Set once at process start, like :func:`redactor.threads.limit_threads`, so that
    pipelines built anywhere in the process pick it up without passing it through.
    """
    global _preferred_device
    _preferred_device = device


def _current_device() -> Device:
    return _preferred_device


def resolve_device(requested: Device, cuda_available: Callable[[], bool], engine: str) -> Device:
    """``cuda`` or ``cpu`` for ``engine``: CUDA if asked for (or ``auto``) and present.

    Falling back to the CPU is logged, as a warning when CUDA was asked for explicitly:
    a GPU host that runs OCR on its CPU is slow, not broken, and must be noticed.
    """
    if requested == "cpu":
        return "cpu"
    if cuda_available():
        log.info("%s runs on CUDA", engine)
        return "cuda"
    level = logging.WARNING if requested == "cuda" else logging.INFO
    log.log(
        level, "%s: no CUDA device available (asked for %s); running on the CPU", engine, requested
    )
    return "cpu"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How to run an engine: CPU threads (``None``: the runtime's default), device
    (default: this process's preference, see :func:`prefer_device`), precision (a job's
    choice, ``PipelineOptions.ocr_precision``, passed by :mod:`redactor.text.builders`)
    and the longest side text is detected at (``None``: the image's own size;
    recognition always reads the full-resolution crops). Only RapidOCR takes
    ``detection_side`` and ``precision``; EasyOCR always detects at the image's own size,
    in float."""

    threads: int | None = None
    device: Device = field(default_factory=_current_device)
    precision: Precision = "fp32"
    detection_side: int | None = None

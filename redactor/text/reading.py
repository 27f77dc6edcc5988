"""Reading the text of an image: where to run OCR, at what size, and checking what comes back.

OCR runs only in the regions of the image that have any detail (flat margins and
backdrops hold no text; see :mod:`redactor.detail`), on a copy no larger than
``max_side``, and every line the engine returns is validated before anything trusts it.
Engine failures become :class:`DetectionError` without the engine's message, which
could quote the text.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np

from redactor.detail import DetailMap
from redactor.errors import DetectionError
from redactor.findings import RGBImage
from redactor.geometry import Box
from redactor.text.ocr import MalformedOcrOutput, OcrEngine, OcrLine

logger = logging.getLogger(__name__)

#: Longest image side OCR runs at. Larger images are shrunk for OCR (time grows with
#: pixels; text this small in a photo is rarely legible anyway) and boxes scaled back.
MAX_OCR_SIDE = 2400
#: Text is read only in the regions around the groups of detail (flat margins and
#: backdrops hold no text; see :mod:`redactor.detail`): detail closer than this (px, at
#: OCR resolution) is one region, and each region keeps half of it as a margin...
REGION_GAP = 48
#: ...and is at least this large a side (RapidOCR's detector needs 32 px after scaling)...
REGION_MIN_SIDE = 128
#: ...when the regions leave at least this share of the image out; else the box around
#: them all, or the whole image.
MIN_CROP_SAVING = 0.2
#: More regions than this are read as one box around them all (each call has a cost).
MAX_REGIONS = 8


def check_image(image: RGBImage) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DetectionError("detectors need an H x W x 3 uint8 RGB image")


def read_text(engine: OcrEngine, image: RGBImage, max_side: int = MAX_OCR_SIDE) -> list[OcrLine]:
    """Every run of text ``engine`` reads in ``image``, in the image's coordinates."""
    check_image(image)
    small, factor = _bounded(image, max_side)
    frame = (small.shape[0], small.shape[1])
    lines = []
    for area in text_areas(small):
        x0, y0, x1, y1 = area.to_int()
        region = np.ascontiguousarray(small[y0:y1, x0:x1])
        read = _read_region(engine, region, frame)
        lines += [line.shifted(x0, y0) for line in read] if x0 or y0 else read
    return [line.scaled(factor) for line in lines] if factor != 1.0 else lines


def _bounded(image: RGBImage, max_side: int) -> tuple[RGBImage, float]:
    """The image shrunk to ``max_side`` (if larger) and the factor back to full size."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small.astype(np.uint8), width / size[0]


def text_areas(image: RGBImage) -> list[Box]:
    """Where text can be, in integer pixels: the regions around the groups of detail
    when they leave enough of the image out, else the box around all detail when that
    does, else the whole image; nothing when the image is flat everywhere."""
    height, width = image.shape[:2]
    whole = Box(0, 0, width, height)
    if height < 2 or width < 2:
        return [whole]
    detail = DetailMap(image)
    regions = [_whole_pixels(r) for r in detail.regions(REGION_GAP, REGION_MIN_SIDE)]
    if not regions:
        return []
    small_enough = (1 - MIN_CROP_SAVING) * whole.area
    if len(regions) <= MAX_REGIONS and sum(r.area for r in regions) <= small_enough:
        return regions
    bounds = detail.bounds(margin=REGION_GAP / 2)
    if bounds is not None and _whole_pixels(bounds).area <= small_enough:
        return [_whole_pixels(bounds)]
    return [whole]


def _whole_pixels(box: Box) -> Box:
    return Box(*(float(v) for v in box.to_int()))


def _read_region(engine: OcrEngine, region: RGBImage, frame: tuple[int, int]) -> list[OcrLine]:
    name = engine.name
    try:
        raw = engine.read(region, frame=frame)
    except MalformedOcrOutput:
        raise DetectionError(f"OCR engine {name!r} returned malformed output") from None
    except Exception as exc:  # noqa: BLE001 - any engine failure must fail closed
        # The cause is dropped on purpose: an engine's message could quote the text.
        logger.error("OCR engine %s raised %s", name, type(exc).__name__)
        raise DetectionError(f"OCR engine {name!r} failed ({type(exc).__name__})") from None
    return validated(raw, name)


def validated(raw: object, engine: str) -> list[OcrLine]:
    """The engine's lines, or :class:`DetectionError` if they are not what the protocol says."""
    if not isinstance(raw, Sequence) or not all(isinstance(line, OcrLine) for line in raw):
        raise DetectionError(f"OCR engine {engine!r} returned malformed output (not OCR lines)")
    for line in raw:
        boxes = [line.box, *(w.box for w in line.words)]
        scores = [line.confidence, *(w.confidence for w in line.words)]
        coords = [c for b in boxes for c in (b.x0, b.y0, b.x1, b.y1)]
        if not all(math.isfinite(c) for c in coords) or any(
            b.x1 < b.x0 or b.y1 < b.y0 for b in boxes
        ):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad box)")
        if not all(0.0 <= s <= 1.0 for s in scores):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad score)")
        if not all(isinstance(w.text, str) for w in line.words):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad text)")
    return list(raw)

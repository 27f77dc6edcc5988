"""Reading the text of an image: where to run OCR, at what size, and checking what comes back.

OCR runs only in the regions of the image that have any detail (flat margins and
backdrops hold no text; see :mod:`redactor.detail`), on a copy no larger than
``max_side``, and every line the engine returns is validated before anything trusts it.
Engine failures become :class:`DetectionError` without the engine's message, which
could quote the text.

**Two-scale detection** (``two_scale=True``, engines that are a
:class:`~redactor.text.ocr.TextProposer`): a cheap first pass runs the text detector's
network on a small canvas of the whole image (:data:`PROPOSAL_SIDE`); full detection,
direction and recognition then run only around what it found (padded, merged, at least
:data:`REGION_MIN_SIDE` a side), each region at the scale the whole image would get, so
text is detected there exactly as on the whole image. It fails closed: when the
proposals cover more than :data:`MAX_PROPOSED_SHARE` of the regions (a page of print),
make more than :data:`MAX_PROPOSED_REGIONS` regions, or the small canvas would not be
much cheaper than the full one, the regions are read whole as without it (and when
the regions with detail already leave most of the image out, no first pass is made).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from redactor.detail import DetailMap
from redactor.errors import DetectionError
from redactor.findings import RGBImage
from redactor.geometry import Box, at_least, disjoint
from redactor.image_context import ImageContext
from redactor.text.ocr import MalformedOcrOutput, OcrEngine, OcrLine, TextMap, TextProposer

logger = logging.getLogger(__name__)
_Out = TypeVar("_Out")

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
#: Two-scale detection: the longest side of the whole image on the proposal canvas...
PROPOSAL_SIDE = 640
#: ...used only when full detection's canvas has at least this many times its pixels
#: (else the first pass costs about what it could save).
MIN_PROPOSAL_SAVING = 2.5
#: Detector probability from which a canvas pixel is proposed as text. RapidOCR's own
#: detector binarises at 0.3; lower keeps small or faint text seen on the small canvas.
PROPOSAL_THRESHOLD = 0.02
#: Margin kept around proposed text, in pixels of the full detection canvas (a line's
#: ends and small glyphs the small canvas saw faintly); text closer than twice this is
#: one region.
PROPOSAL_MARGIN = 32
#: Fall back to reading the regions whole when the proposals cover more than this
#: share of them (text-dense images: a page of print)...
MAX_PROPOSED_SHARE = 0.5
#: ...or make more regions than this (each call has a cost).
MAX_PROPOSED_REGIONS = 12
#: Only when the detail regions cover at least this share of the image: below it,
#: reading them whole costs less than a first pass over the whole image would save.
MIN_DETAIL_SHARE = 0.4


def check_image(image: RGBImage) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DetectionError("detectors need an H x W x 3 uint8 RGB image")


def read_text(
    engine: OcrEngine,
    image: RGBImage,
    max_side: int = MAX_OCR_SIDE,
    *,
    two_scale: bool = False,
    context: ImageContext | None = None,
) -> list[OcrLine]:
    """Every run of text ``engine`` reads in ``image``, in the image's coordinates;
    ``two_scale``: detect at full scale only where a cheap first pass saw text.
    ``context``: the image's shared work (its detail map, the bounded copy)."""
    check_image(image)
    context = ImageContext.of(image, context)
    small, factor = _bounded(context, max_side)
    frame = (small.shape[0], small.shape[1])
    lines = []
    plan = reading_plan(engine, small, two_scale=two_scale, detail=context.detail)
    for area in plan.areas:
        x0, y0, x1, y1 = area.to_int()
        region = np.ascontiguousarray(small[y0:y1, x0:x1])
        read = _read_region(engine, region, frame)
        lines += [line.shifted(x0, y0) for line in read] if x0 or y0 else read
    return [line.scaled(factor) for line in lines] if factor != 1.0 else lines


def detection_scale(
    engine: OcrEngine, size: tuple[int, int], max_side: int = MAX_OCR_SIDE
) -> float:
    """Detection canvas pixels per image pixel when :func:`read_text` reads an image of
    ``size`` (height, width): the OCR bound, then the engine's own scaling (engines that
    do not say, :class:`~redactor.text.ocr.TextProposer`, detect at the size given)."""
    height, width = size
    bound = min(1.0, max_side / max(height, width, 1))
    if not isinstance(engine, TextProposer):
        return bound
    bounded = (max(1, round(height * bound)), max(1, round(width * bound)))
    return bound * engine.detection_scale(bounded)


def read_enlarged(engine: OcrEngine, image: RGBImage, area: Box, scale: float) -> list[OcrLine]:
    """Every run of text ``engine`` reads in ``area`` of ``image`` enlarged ``scale``
    times (cubic interpolation), in the image's coordinates: document mode reads a
    document's extent again with its text at a size OCR reads well (see
    :mod:`redactor.documents.reread`). The enlarged crop is read as a whole image."""
    check_image(image)
    height, width = image.shape[:2]
    x0, y0, x1, y1 = area.clipped(width, height).to_int()
    if x1 <= x0 or y1 <= y0:
        return []
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    enlarged = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC), np.uint8)
    read = _read_region(engine, enlarged, (size[1], size[0]))
    back = (x1 - x0) / size[0]
    return [line.scaled(back).shifted(x0, y0) for line in read]


def _bounded(context: ImageContext, max_side: int) -> tuple[RGBImage, float]:
    """The image shrunk to ``max_side`` (if larger) and the factor back to full size."""
    height, width = context.image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return context.image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return context.resized(*size), width / size[0]


def text_areas(image: RGBImage, detail: DetailMap | None = None) -> list[Box]:
    """Where text can be, in integer pixels: the regions around the groups of detail
    when they leave enough of the image out, else the box around all detail when that
    does, else the whole image; nothing when the image is flat everywhere.

    ``detail`` may be the map of the same picture at another size (the full-resolution
    frame's, shared with the face detector, when ``image`` is its OCR-bounded copy):
    distances are converted to its pixels and its boxes back to ``image``'s."""
    height, width = image.shape[:2]
    whole = Box(0, 0, width, height)
    if height < 2 or width < 2:
        return [whole]
    detail = detail if detail is not None else DetailMap(image)
    sx, sy = width / detail.width, height / detail.height
    to_map = 1 / min(sx, sy)

    def here(box: Box) -> Box:
        return _whole_pixels(box.times(sx, sy).clipped(width, height))

    raw = detail.regions(max(1, round(REGION_GAP * to_map)), REGION_MIN_SIDE * to_map)
    regions = disjoint([here(r) for r in raw]) if (sx, sy) != (1.0, 1.0) else raw
    regions = [_whole_pixels(r) for r in regions]
    if not regions:
        return []
    small_enough = (1 - MIN_CROP_SAVING) * whole.area
    if len(regions) <= MAX_REGIONS and sum(r.area for r in regions) <= small_enough:
        return regions
    bounds = detail.bounds(margin=REGION_GAP / 2 * to_map)
    if bounds is not None and here(bounds).area <= small_enough:
        return [here(bounds)]
    return [whole]


@dataclass(frozen=True, slots=True)
class ReadingPlan:
    """Where an image is read: its areas, and whether the two-scale pass chose them
    (``proposed``) or they are the detail regions read whole."""

    areas: list[Box]
    proposed: bool = False


def reading_plan(
    engine: OcrEngine, image: RGBImage, *, two_scale: bool, detail: DetailMap | None = None
) -> ReadingPlan:
    """The areas of ``image`` (already within the OCR bound) to read: the detail regions
    (:func:`text_areas`, from ``detail`` when given), or with ``two_scale`` the regions
    around the text a first pass on a small canvas of the whole image proposes inside
    them, unless that pass fails closed (see the module's docstring)."""
    areas = text_areas(image, detail)
    if not two_scale or not areas or not isinstance(engine, TextProposer):
        return ReadingPlan(areas)
    height, width = image.shape[:2]
    read_whole = sum(a.area for a in areas)
    full = engine.detection_scale((height, width))
    scale = PROPOSAL_SIDE / max(height, width)
    if read_whole < MIN_DETAIL_SHARE * height * width or (full / scale) ** 2 < MIN_PROPOSAL_SAVING:
        return ReadingPlan(areas)
    # The whole image, not each area: the detector's map of small text depends on what
    # else is in its input (it pools over all of it), and it was trained on whole images.
    text_map = _proposal(engine, image, scale)
    proposed = [
        inside
        for box in proposed_boxes(text_map, PROPOSAL_MARGIN / full)
        for area in areas
        if (inside := _within(box, area)) is not None
    ]
    regions = disjoint(
        [_whole_pixels(at_least(b, REGION_MIN_SIDE, width, height)) for b in proposed]
    )
    if len(regions) > MAX_PROPOSED_REGIONS or (
        sum(r.area for r in regions) > MAX_PROPOSED_SHARE * read_whole
    ):
        logger.debug("two-scale text detection fell back to the whole regions")
        return ReadingPlan(areas)
    return ReadingPlan(regions, proposed=True)


def _within(box: Box, area: Box) -> Box | None:
    """The part of ``box`` inside ``area``, if any."""
    inside = Box(
        max(box.x0, area.x0), max(box.y0, area.y0), min(box.x1, area.x1), min(box.y1, area.y1)
    )
    return inside if inside.x1 > inside.x0 and inside.y1 > inside.y0 else None


def proposed_boxes(text_map: TextMap, margin: float) -> list[Box]:
    """Boxes (in the image's pixels) around the groups of canvas pixels at or above
    :data:`PROPOSAL_THRESHOLD`, each grown by ``margin`` image pixels; groups closer
    than twice that are one box."""
    mask = (text_map.probability >= PROPOSAL_THRESHOLD).astype(np.uint8)
    if not mask.any():
        return []
    sx, sy = text_map.to_image
    reach = max(1, math.ceil(2 * margin / min(sx, sy)))
    joined = cv2.dilate(mask, np.ones((reach | 1, reach | 1), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    boxes = []
    for x, y, w, h, _area in stats[1:count]:
        # The dilation grew each group by about ``margin``; the box is taken on the
        # canvas's whole pixels, so it is grown by one more pixel to be sure.
        boxes.append(Box((x - 1) * sx, (y - 1) * sy, (x + w + 1) * sx, (y + h + 1) * sy))
    return boxes


def _proposal(engine: TextProposer, region: RGBImage, scale: float) -> TextMap:
    name = getattr(engine, "name", "?")
    text_map = _fail_closed(
        lambda: engine.propose(region, scale=scale),
        name,
        malformed="a malformed text map",
        stage=" in its proposal pass",
    )
    probability = text_map.probability
    if probability.ndim != 2 or not np.isfinite(probability).all():
        raise DetectionError(f"OCR engine {name!r} returned a malformed text map")
    return text_map


def _whole_pixels(box: Box) -> Box:
    return Box(*(float(v) for v in box.to_int()))


def _read_region(engine: OcrEngine, region: RGBImage, frame: tuple[int, int]) -> list[OcrLine]:
    raw = _fail_closed(
        lambda: engine.read(region, frame=frame), engine.name, malformed="malformed output"
    )
    return validated(raw, engine.name)


def _fail_closed(call: Callable[[], _Out], name: str, *, malformed: str, stage: str = "") -> _Out:
    """``call()``'s result; any engine failure becomes :class:`DetectionError`.

    The cause is dropped on purpose: an engine's message could quote the text.
    """
    try:
        return call()
    except MalformedOcrOutput:
        raise DetectionError(f"OCR engine {name!r} returned {malformed}") from None
    except Exception as exc:  # noqa: BLE001 - any engine failure must fail closed
        logger.error("OCR engine %s raised %s%s", name, type(exc).__name__, stage)
        raise DetectionError(f"OCR engine {name!r} failed ({type(exc).__name__})") from None


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

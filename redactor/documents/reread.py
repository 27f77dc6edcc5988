"""Reading a document's text again, larger, once document mode knows where it is.

The first reading runs OCR over the whole image at a scale bounded for speed. A card
that fills a fifth of a photo has its labels a few pixels tall there: PP-OCR's detector
joins a small label stacked over its large value into one box (so the label is read as
part of a value and redacted), or misses small lines altogether. Once document mode has
a document's extent, that extent alone (with a margin) is read again, enlarged so that
its median line is :data:`TARGET_TEXT_PX` tall, within :data:`MAX_SIDE` a side, for at
most :data:`MAX_DOCUMENTS` documents an image; an extent whose text the first reading
already saw at a size OCR reads well (:data:`SMALL_TEXT_PX`) is not read again.

The re-read lines replace the first reading's inside the extent only where they
reproduce them (:func:`merged`), so the re-read can split a merged "Surname SMITH" box
into a label and a value, but ink the first reading had redacted ends up under a re-read
line (redacted, or shown by the re-read to be a kept label) or stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from redactor.documents.margins import Grey, ink_mask
from redactor.findings import RGBImage
from redactor.geometry import Box, centre_within
from redactor.text.lines import TextLine, build_lines
from redactor.text.ocr import OcrEngine, TextProposer
from redactor.text.reading import MAX_OCR_SIDE, detection_scale, read_enlarged

#: The median line height (px) of a document's text on the re-read's detector canvas.
TARGET_TEXT_PX = 36.0
#: Longest side of the enlarged crop (px): bounds the re-read's cost.
MAX_SIDE = 2048
#: Read again only when the first reading saw the text smaller than this (px, median
#: line on the detector's canvas)... Scans of specimens, whose whole image the first
#: reading enlarges, have it at 21-33 px, and reading them again gained nothing (23
#: real specimens: field recall 0.927 both ways, labels kept 0.673 -> 0.664); cards
#: photographed on a table have it at 8-14 px.
SMALL_TEXT_PX = 20.0
#: ...and the re-read would see it at least this many times larger.
MIN_GAIN = 1.3
#: Documents read again per image (the largest first); the others keep the first reading.
MAX_DOCUMENTS = 3
#: Margin around the extent, in median line heights: the edge's glyphs read whole.
CROP_MARGIN = 1.0
#: A first-reading line is reproduced when this share of its ink lies under re-read
#: lines (each padded by :data:`LINE_PAD` of its height, at least a pixel).
REPRODUCED_INK = 0.9
LINE_PAD = 0.15
#: Below this many ink pixels a line's box is compared by area instead.
MIN_INK_PX = 20


class ExtentReader(Protocol):
    """Reads the text inside a document's extent again (document mode's re-read)."""

    def read(self, image: RGBImage, extent: Box, text_height: float) -> list[TextLine] | None:
        """The lines in ``extent`` (image coordinates) for a document whose first reading
        found text ``text_height`` tall; ``None`` when a re-read would not read it larger."""
        ...


@dataclass(frozen=True, slots=True)
class EngineExtentReader:
    """:class:`ExtentReader` over an OCR engine (the process's shared one)."""

    engine: OcrEngine
    target_px: float = TARGET_TEXT_PX
    max_side: int = MAX_SIDE
    first_side: int = MAX_OCR_SIDE

    def read(self, image: RGBImage, extent: Box, text_height: float) -> list[TextLine] | None:
        height, width = image.shape[:2]
        area = extent.padded(CROP_MARGIN * text_height).clipped(width, height)
        scale = self.scale((height, width), area, text_height)
        if scale is None:
            return None
        return build_lines(read_enlarged(self.engine, image, area, scale))

    def scale(self, size: tuple[int, int], area: Box, text_height: float) -> float | None:
        """How much to enlarge ``area`` of an image of ``size`` (height, width), or
        ``None`` when the first reading saw its text at :data:`SMALL_TEXT_PX` or more,
        or the re-read would not see it :data:`MIN_GAIN` times larger."""
        if text_height <= 0 or area.width < 1 or area.height < 1:
            return None
        first = detection_scale(self.engine, size, self.first_side)
        if text_height * first >= SMALL_TEXT_PX:
            return None
        scale = min(self.target_px / text_height, self.max_side / max(area.width, area.height))
        enlarged = (max(1, round(area.height * scale)), max(1, round(area.width * scale)))
        engine = self.engine
        canvas = engine.detection_scale(enlarged) if isinstance(engine, TextProposer) else 1.0
        return scale if scale * canvas >= MIN_GAIN * first else None


def merged(
    grey: Grey, first: Sequence[TextLine], again: Sequence[TextLine], extent: Box, fixed: set[int]
) -> tuple[list[int], list[TextLine]]:
    """The first reading's lines that stay (indices into ``first``) and the re-read lines
    (``again``) that join them, for the document at ``extent``.

    Every re-read line centred in the extent joins (those in its margin are another
    document's or the table's). A first-reading line inside the extent gives way when
    the re-read reproduced it: at least :data:`REPRODUCED_INK` of its ink lies under
    re-read lines. The others stay beside the re-read lines over them, as the first
    reading had them (what either reading redacts is redacted), and so do the ``fixed``
    ones (MRZ lines, whose zone document mode redacts whole).
    """
    joining = [line for line in again if centre_within(extent, line.box)]
    cover = [line.box.padded(max(1.0, LINE_PAD * line.box.height)) for line in joining]
    staying = [
        i
        for i, line in enumerate(first)
        if i in fixed
        or not centre_within(extent, line.box)
        or _covered_share(grey, line.box, cover) < REPRODUCED_INK
    ]
    return staying, joining


def _covered_share(grey: Grey, box: Box, cover: Sequence[Box]) -> float:
    """The share of the ink in ``box`` (or of its area, when it has almost no ink) that
    lies in the ``cover`` boxes."""
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    if x1 <= x0 or y1 <= y0:
        return 1.0
    ink = ink_mask(grey[y0:y1, x0:x1])
    under = np.zeros_like(ink)
    for c in cover:
        cx0, cy0, cx1, cy1 = c.to_int()
        under[max(0, cy0 - y0) : max(0, cy1 - y0), max(0, cx0 - x0) : max(0, cx1 - x0)] = True
    if int(ink.sum()) < MIN_INK_PX:
        return float(under.mean())
    return float(under[ink].mean())

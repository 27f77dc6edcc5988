"""Redaction margins inside a document: wide enough that no glyph edge survives, never
into a kept label.

The redactor pads every text-kind finding by a share of its height
(:func:`redactor.redact.region_for`) so ascenders and anti-aliasing next to the fill go
too. On a document a label is printed right above or beside its value, often a line
height apart or less, and that margin eats a strip of the label; on a portrait area
(a few text lines tall) it eats whole labels. Document mode therefore decides the
region itself: the value's box with the usual margin, the margin clipped where it
reaches a kept box (never the value's own box: where OCR boxes overlap, the value
wins, fail closed), and hands the redactor the box whose padded region is exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence

from redactor.geometry import Box
from redactor.redact import TEXT_MARGIN_FRACTION, TEXT_MARGIN_MIN_PX


def margin_of(box: Box) -> float:
    """The margin the redactor adds around a text-kind finding of ``box``."""
    return max(TEXT_MARGIN_MIN_PX, box.height * TEXT_MARGIN_FRACTION)


def finding_box(region: Box) -> Box:
    """The finding box whose redacted region is ``region`` (the inverse of the padding in
    :func:`redactor.redact.region_for`); ``region`` itself when it is too small to shrink,
    which redacts a little more, never less."""
    # margin m = max(MIN, f * (H - 2m)): m = f * H / (1 + 2f) unless that is below MIN
    m = max(
        TEXT_MARGIN_MIN_PX, TEXT_MARGIN_FRACTION * region.height / (1 + 2 * TEXT_MARGIN_FRACTION)
    )
    if region.width <= 2 * m or region.height <= 2 * m:
        return region
    return region.padded(-m)


def clipped_region(
    value: Box, kept: Sequence[Box], margin: float | None = None, vertical: float | None = None
) -> Box:
    """``value`` padded by ``margin`` (the redactor's by default) left and right and by
    ``vertical`` (``margin`` by default) above and below, with the padding cut back where
    it reaches a box of ``kept``: a label above, below, left or right of the value. The
    value's own box is always inside the result."""
    pad = margin_of(value) if margin is None else margin
    pad_y = pad if vertical is None else vertical
    x0, y0, x1, y1 = value.x0 - pad, value.y0 - pad_y, value.x1 + pad, value.y1 + pad_y
    for k in kept:
        if not (k.x0 < x1 and x0 < k.x1 and k.y0 < y1 and y0 < k.y1):
            continue
        overlap_x = min(k.x1, value.x1) - max(k.x0, value.x0)
        overlap_y = min(k.y1, value.y1) - max(k.y0, value.y0)
        gap_x = -overlap_x
        gap_y = -overlap_y
        stacked = overlap_x > 0 if (overlap_x > 0) != (overlap_y > 0) else gap_y >= gap_x
        kc, vc = k.center, value.center
        if stacked:
            if kc[1] < vc[1]:
                y0 = max(y0, min(k.y1, value.y0))
            else:
                y1 = min(y1, max(k.y0, value.y1))
        elif kc[0] < vc[0]:
            x0 = max(x0, min(k.x1, value.x0))
        else:
            x1 = min(x1, max(k.x0, value.x1))
    return Box(x0, y0, x1, y1)

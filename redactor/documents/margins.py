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

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redactor.geometry import Box
from redactor.redact import TEXT_MARGIN_FRACTION, TEXT_MARGIN_MIN_PX

Grey = npt.NDArray[np.uint8]

#: Ink: grey levels this far from the box's median, in this share of a row's pixels.
INK_LEVELS = 48.0
INK_ROW_SHARE = 0.02
#: Blank rows that end a line's ink; the most of a box's height cut on each side.
BLANK_ROWS = 2
MAX_TRIM = 0.3
MIN_TRIM_HEIGHT = 6
#: A margin cut back at a kept box stops this far short of it (pixels, or this share of
#: the kept box's height if more): OCR's boxes hug the glyphs, and a fill on a kept
#: label's last row of ink, or on the anti-aliased row under it, leaves it unreadable.
#: Where label and value are set closer than that, the value keeps the first
#: :data:`INK_EDGE_PX` of its margin up to the label's box (its own glyph edges; fields
#: come first).
KEPT_CLEARANCE_PX = 2.0
KEPT_CLEARANCE = 0.1
#: A kept box holding this share of a value's rows is on its row.
ROW_SHARE = 0.6
#: Rows kept past the last ink row: anti-aliased glyph edges fade over a few pixels.
INK_EDGE_PX = 2.0
#: An edge of the finding box is moved in by this much where the exact inverse of the
#: redactor's padding, padded back in floating point, comes out a hair past a whole
#: pixel (a region edge on a kept label's edge or a split row: about one region in
#: ten): the redactor fills every pixel a region touches, and filled one more row of
#: the label. Far below a pixel, so the fill never loses a row of the value.
ROUND_TRIP_PX = 1e-7


def ink_mask(crop: Grey) -> npt.NDArray[np.bool_]:
    """The ink of a grey ``crop``: pixels more than :data:`INK_LEVELS` from its median."""
    ink: npt.NDArray[np.bool_] = (
        np.abs(crop.astype(np.float32) - float(np.median(crop))) > INK_LEVELS
    )
    return ink


def margin_of(box: Box) -> float:
    """The margin the redactor adds around a text-kind finding of ``box``."""
    return max(TEXT_MARGIN_MIN_PX, box.height * TEXT_MARGIN_FRACTION)


def boxes_mask(shape: tuple[int, ...], boxes: Sequence[Box]) -> npt.NDArray[np.bool_]:
    """The pixels of ``boxes`` (clipped) in an image of ``shape``."""
    height, width = shape[:2]
    mask = np.zeros((height, width), bool)
    for box in boxes:
        bx0, by0, bx1, by1 = box.clipped(width, height).to_int()
        mask[by0:by1, bx0:bx1] = True
    return mask


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
    box = region.padded(-m)
    for _ in range(3):
        back = box.padded(margin_of(box))
        # an edge padded back a hair past a whole pixel fills one more row or column
        x0 = math.floor(back.x0) < math.floor(region.x0)
        y0 = math.floor(back.y0) < math.floor(region.y0)
        x1 = math.ceil(back.x1) > math.ceil(region.x1)
        y1 = math.ceil(back.y1) > math.ceil(region.y1)
        if not (x0 or y0 or x1 or y1):
            break
        box = Box(
            box.x0 + ROUND_TRIP_PX * x0,
            box.y0 + ROUND_TRIP_PX * y0,
            box.x1 - ROUND_TRIP_PX * x1,
            box.y1 - ROUND_TRIP_PX * y1,
        )
    return box


def clipped_region(
    value: Box,
    kept: Sequence[Box],
    margin: float | None = None,
    vertical: float | None = None,
    *,
    region: Box | None = None,
) -> Box:
    """``value`` padded by ``margin`` (the redactor's by default) left and right and by
    ``vertical`` (``margin`` by default) above and below, or ``region`` when given (a
    photo area around its face), cut back where it reaches a box of ``kept``: a label
    above, below, left or right of the value, with :data:`KEPT_CLEARANCE_PX` to spare.
    The value's own box is always inside."""
    if region is None:
        pad = margin_of(value) if margin is None else margin
        pad_y = pad if vertical is None else vertical
        region = Box(value.x0 - pad, value.y0 - pad_y, value.x1 + pad, value.y1 + pad_y)
    x0, y0, x1, y1 = region.x0, region.y0, region.x1, region.y1
    for k in kept:
        clear = max(KEPT_CLEARANCE_PX, KEPT_CLEARANCE * k.height)
        # a kept box the margin would come within the clearance of counts too
        if not (
            k.x0 - clear < x1 and x0 < k.x1 + clear and k.y0 - clear < y1 and y0 < k.y1 + clear
        ):
            continue
        overlap_x = min(k.x1, value.x1) - max(k.x0, value.x0)
        overlap_y = min(k.y1, value.y1) - max(k.y0, value.y0)
        gap_x = -overlap_x
        gap_y = -overlap_y
        stacked = overlap_x > 0 if (overlap_x > 0) != (overlap_y > 0) else gap_y >= gap_x
        kc, vc = k.center, value.center
        # the value keeps up to INK_EDGE_PX of margin (its glyphs' edges) even within
        # the clearance, but never inside the kept box
        if stacked:
            if kc[1] < vc[1]:
                y0 = max(y0, min(k.y1 + clear, value.y0, max(k.y1, value.y0 - INK_EDGE_PX)))
            else:
                y1 = min(y1, max(k.y0 - clear, value.y1, min(k.y0, value.y1 + INK_EDGE_PX)))
        elif kc[0] < vc[0]:
            x0 = max(x0, min(k.x1 + clear, value.x0, max(k.x1, value.x0 - INK_EDGE_PX)))
        else:
            x1 = min(x1, max(k.x0 - clear, value.x1, min(k.x0, value.x1 + INK_EDGE_PX)))
    return Box(x0, y0, x1, y1)


def trimmed_to_ink(grey: Grey, box: Box) -> Box:
    """``box`` cut above and below to the rows of the ink around its middle.

    OCR's line boxes are grown around the glyphs, and on a document the grown box of a
    value often reaches into the label printed right above it. The ink of a line is a
    run of rows that differ from the box's background; a run of
    :data:`BLANK_ROWS` blank rows ends it (an accent over a capital is one row away).
    Where the background is busy (guilloches) no row is blank and nothing is cut; at
    most :data:`MAX_TRIM` of the height goes on each side.
    """
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    crop = grey[y0:y1, x0:x1]
    if crop.shape[0] < MIN_TRIM_HEIGHT or crop.shape[1] < crop.shape[0]:
        return box  # too small, or printed vertically
    rows = ink_mask(crop).mean(axis=1) > INK_ROW_SHARE
    n = len(rows)
    middle = n // 2
    inked = np.flatnonzero(rows)
    if inked.size == 0:
        return box
    start = int(inked[np.argmin(np.abs(inked - middle))])
    top = bottom = start
    while top > 0 and rows[max(0, top - BLANK_ROWS) : top].any():
        top -= 1
    while bottom < n - 1 and rows[bottom + 1 : bottom + 1 + BLANK_ROWS].any():
        bottom += 1
    limit = MAX_TRIM * n
    top = min(top, int(limit))
    bottom = max(bottom, n - 1 - int(limit))
    return Box(
        box.x0,
        max(box.y0, y0 + top - INK_EDGE_PX),
        box.x1,
        min(box.y1, y0 + bottom + 1 + INK_EDGE_PX),
    )


def split_from_kept(grey: Grey, value: Box, kept: Sequence[Box]) -> Box:
    """``value`` with its top (bottom) moved down (up) to the faintest row between it and
    a kept box whose OCR box overlaps it from above (below): tightly set labels and
    values share rows of their grown boxes, and the faintest row is where one line's
    ink ends and the other's begins (the fewest ink pixels, then the palest: a label
    printed in a pale colour has no pixel past :data:`INK_LEVELS`, yet its rows are
    darker than the gap). Never more than half the value's height, and not at all when
    the value has no ink of its own past :data:`INK_LEVELS` (printed pale, in a colour
    the grey levels hardly tell from the paper: where its glyphs end is unknown)."""
    if not _inked(grey, value):
        return value
    y0, y1 = value.y0, value.y1
    for k in kept:
        if min(k.x1, value.x1) - max(k.x0, value.x0) <= 0:
            continue
        if k.y0 < value.y0 < k.y1 <= value.center[1]:
            y0 = max(y0, _faintest_row(grey, value, k, value.y0, k.y1, prefer_high=True))
        elif value.center[1] <= k.y0 < value.y1 < k.y1:
            y1 = min(y1, _faintest_row(grey, value, k, k.y0, value.y1, prefer_high=False) + 1)
    return Box(value.x0, y0, value.x1, y1) if y1 > y0 else value


def _inked(grey: Grey, box: Box) -> bool:
    """Whether ``box`` holds a pixel :data:`INK_LEVELS` from its median grey level."""
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    crop = grey[y0:y1, x0:x1]
    if not crop.size:
        return False
    return bool((np.abs(crop.astype(np.float32) - float(np.median(crop))) > INK_LEVELS).any())


def beside_kept(value: Box, kept: Sequence[Box]) -> Box:
    """``value`` without a kept box it begins or ends with on its row: another detector
    boxes a whole line ("NAME CRITTENDEN, LUCY"), label included, where document mode
    keeps the label and redacts the rest itself. Only a kept box at either end, holding
    the value's rows, is cut off; one in the middle would leave two parts, and stays."""
    x0, x1 = value.x0, value.x1
    for k in kept:
        rows = min(k.y1, value.y1) - max(k.y0, value.y0)
        if rows < ROW_SHARE * value.height or k.width >= value.width:
            continue
        if k.x0 <= value.x0 < k.x1 < value.x1:
            x0 = max(x0, k.x1)
        elif value.x0 < k.x0 < value.x1 <= k.x1:
            x1 = min(x1, k.x0)
    return Box(x0, value.y0, x1, value.y1) if x1 > x0 else value


def _faintest_row(
    grey: Grey, value: Box, kept: Box, top: float, bottom: float, *, prefer_high: bool
) -> float:
    height, width = grey.shape[:2]
    x0 = max(0, int(max(value.x0, kept.x0)))
    x1 = min(width, int(min(value.x1, kept.x1)) + 1)
    r0, r1 = max(0, int(top)), min(height, int(bottom) + 1)
    if x1 - x0 < 2 or r1 <= r0:
        return top if prefer_high else bottom
    band = grey[max(0, int(value.y0)) : min(height, int(value.y1) + 1), x0:x1]
    background = float(np.median(band)) if band.size else 255.0
    rows = grey[r0:r1, x0:x1].astype(np.float32)
    ink = (np.abs(rows - background) > INK_LEVELS).mean(axis=1)
    order = range(len(ink)) if prefer_high else range(len(ink) - 1, -1, -1)
    best = min(order, key=lambda i: ink[i])
    # rows as faint as the best still differ: pale or anti-aliased glyphs (a label
    # printed in a light colour) lie on the ink's side of the background, the gap
    # between two lines on the paper's side. A paler row is taken only when the
    # value's rows it cuts off hold no ink beside the kept box either (the value's
    # words may reach lower or higher past the label's end, and their glyph edges
    # :data:`INK_EDGE_PX` further: fail closed).
    shade = (rows.mean(axis=1) - background) * _ink_side(band, background)
    edge = int(np.ceil(INK_EDGE_PX))
    e0, e1 = max(0, r0 - edge), min(height, r1 + edge)
    vx0, vx1 = max(0, int(value.x0)), min(width, int(value.x1) + 1)
    beside = np.concatenate([grey[e0:e1, vx0 : max(vx0, x0)], grey[e0:e1, min(vx1, x1) : vx1]], 1)
    near = np.zeros(e1 - e0, np.bool_)
    if beside.size:
        dark = np.abs(beside.astype(np.float32) - background) > INK_LEVELS
        for j in np.flatnonzero(dark.any(axis=1)):
            near[max(0, j - edge) : j + edge + 1] = True
    inked = near[r0 - e0 : r0 - e0 + len(ink)]

    def cuts_clean(i: int) -> bool:
        return not (inked[:i].any() if prefer_high else inked[i + 1 :].any())

    tied = [i for i in order if ink[i] == ink[best] and cuts_clean(i)]
    if tied:
        best = min(tied, key=lambda i: shade[i])
    return float(r0 + best)


def _ink_side(band: Grey, background: float) -> float:
    """1.0 where the ink of ``band`` is lighter than its ``background`` (light print on
    a dark ground), -1.0 where it is darker (the usual): the side most pixels past
    :data:`INK_LEVELS` from the background are on, or the side the mean lies on."""
    values = band.astype(np.float32)
    lighter = int((values > background + INK_LEVELS).sum())
    darker = int((values < background - INK_LEVELS).sum())
    if lighter == darker:
        return 1.0 if float(values.mean()) > background else -1.0
    return 1.0 if lighter > darker else -1.0

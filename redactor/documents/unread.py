"""Ink inside a document that OCR did not read: redacted, since nothing says it is a label.

OCR misses lines on real documents: a one-letter sex field, a value printed in colour
over a guilloche, a date under a watermark. Document mode keeps only what it read and
knows to be a label, title, state name or specimen word; a word OCR never read is none
of these, so failing closed means redacting it too. This module finds such words as
ink: dark marks on the paper (the closing of the grey levels minus the grey levels, a
"black-hat") of text height, joined letter to letter into words, outside every line OCR
read and every photo area. Blobs much taller or flatter than the document's text
(guilloche curves, a chip's contacts, a photo's edge) are not words and stay.

Ink is set aside mark by mark: a glyph-sized mark (one connected patch of ink, no wider
than :data:`MARK_WIDTH` text heights and at least :data:`MARK_HEIGHT` of one tall) that
crosses the edge of a read line goes whole with the side holding most of it, so a
value's letter poking into a label's box, or printed right after a line OCR read, is
not cut into a sliver too small to be a word, and a label's glyph sticking out of its
box is not left behind as one. Larger marks (guilloche joining letters, a rule) are
cut at the read box, padded. A word stops short of a kept box (a label kept on the same
row): the ink beside a label is redacted, never extended over it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from redactor.documents.margins import Grey, boxes_mask, margin_of
from redactor.geometry import Box
from redactor.text.context import runs

#: Ink: this much darker than the paper around it (grey levels).
INK_LEVELS = 48.0
#: A word's height, as shares of the document's median text height.
MIN_HEIGHT = 0.5
MAX_HEIGHT = 1.8
#: A word is at least this wide (share of its height): a letter, not a speck or a rule.
MIN_WIDTH = 0.3
#: Share of a word's box that is ink: letters, not a filled block or a lone stroke.
MIN_FILL = 0.12
MAX_FILL = 0.75
#: Letters closer than this (share of the text height) are one word.
LETTER_GAP = 0.5
#: In a blob taller than a word, rows with less ink than this share of its median row
#: separate bands of text.
BAND_VALLEY = 0.5
#: A glyph-sized mark: at most this wide and at least this tall (shares of the text
#: height). Only such marks go whole to the side of a read box holding most of them.
MARK_WIDTH = 2.0
MARK_HEIGHT = 0.5
#: A word and a kept box are on one row when they share this share of the lower one's
#: height.
ROW_OVERLAP = 0.5
#: Read lines are widened by this share of their height before their ink is set aside.
READ_PAD = 0.2
#: Words are widened by this share of the text height: the faint edges of the glyphs
#: are not ink by :data:`INK_LEVELS`.
WORD_PAD = 0.15
#: Documents whose text is smaller than this (px) are not searched: no letter to find.
MIN_TEXT_PX = 5.0


def unread_words(
    grey: Grey,
    extent: Box,
    read: Sequence[Box],
    text_height: float,
    *,
    kept: Sequence[Box] = (),
) -> list[Box]:
    """Boxes of word-sized ink inside ``extent`` that lies in none of the ``read`` boxes
    (the lines OCR read, photo areas), for a document whose text is ``text_height`` tall;
    a word stops at a ``kept`` box (a kept label) on its row."""
    if text_height < MIN_TEXT_PX:
        return []
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = extent.clipped(width, height).to_int()
    if x1 - x0 < text_height or y1 - y0 < text_height:
        return []
    crop = grey[y0:y1, x0:x1]
    side = 2 * round(1.5 * text_height) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    ink = _set_aside(
        cv2.morphologyEx(crop, cv2.MORPH_BLACKHAT, kernel) > INK_LEVELS,
        [box.shifted(-x0, -y0) for box in read],
        text_height,
    )
    gap = max(1, round(LETTER_GAP * text_height))
    joined = cv2.morphologyEx(
        ink.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1))
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    words = []
    for label in range(1, count):
        left, top, w, h, _ = (int(v) for v in stats[label])
        blob = ink[top : top + h, left : left + w] & (
            labels[top : top + h, left : left + w] == label
        )
        for bx, by, bw, bh in _cut(blob, text_height):
            fill = float(blob[by : by + bh, bx : bx + bw].mean())
            if bw >= MIN_WIDTH * bh and MIN_FILL <= fill <= MAX_FILL:
                word = Box(x0 + left + bx, y0 + top + by, x0 + left + bx + bw, y0 + top + by + bh)
                stopped = _stopped(word.padded(WORD_PAD * text_height), kept)
                if stopped is not None:
                    words.append(stopped)
    return words


def _set_aside(
    ink: npt.NDArray[np.bool_], read: Sequence[Box], text_height: float
) -> npt.NDArray[np.bool_]:
    """``ink`` without what the ``read`` boxes (crop coordinates) explain: a glyph-sized
    mark goes whole with the side of the boxes themselves holding most of its pixels
    (their padding is for the faint edges of their own glyphs, and would take in a
    letter printed a pixel past a box's end), the rest of the ink is cut at the padded
    boxes' edges."""
    inside = boxes_mask(ink.shape, [box.padded(READ_PAD * box.height) for box in read])
    count, marks, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    glyph = (stats[:, cv2.CC_STAT_WIDTH] <= MARK_WIDTH * text_height) & (
        stats[:, cv2.CC_STAT_HEIGHT] >= MARK_HEIGHT * text_height
    )
    glyph[0] = False  # the background
    held = np.bincount(marks[boxes_mask(ink.shape, read) & ink], minlength=count)
    released = glyph & (2 * held > area)
    whole = glyph & ~released
    kept: npt.NDArray[np.bool_] = ink & ~released[marks] & (~inside | whole[marks])
    return kept


def _stopped(word: Box, kept: Sequence[Box]) -> Box | None:
    """``word`` cut back where its redacted region (the box and the redactor's margin)
    would reach a ``kept`` box on its row, padded as read boxes are (the faint edges of
    the label's glyphs); ``None`` when nothing of it is left beside the box."""
    x0, x1 = word.x0, word.x1
    for k in kept:
        shared = min(k.y1, word.y1) - max(k.y0, word.y0)
        clear = READ_PAD * k.height + margin_of(word)
        if shared < ROW_OVERLAP * min(k.height, word.height) or not (
            k.x0 - clear < x1 and x0 < k.x1 + clear
        ):
            continue
        if word.center[0] < k.center[0]:
            x1 = min(x1, k.x0 - clear)
        else:
            x0 = max(x0, k.x1 + clear)
    if x1 <= x0:
        return None
    return Box(x0, word.y0, x1, word.y1)


def _cut(blob: npt.NDArray[np.bool_], text_height: float) -> list[tuple[int, int, int, int]]:
    """Word boxes ``(x, y, w, h)`` in one blob of ink: the blob itself when it is of text
    height, else its bands of text height (rows between faint rows: lines of small print
    stacked a pixel apart, or crossed by a watermark, join into one blob) cut into words
    at column gaps."""
    height, width = blob.shape
    if height < MIN_HEIGHT * text_height:
        return []
    if height <= MAX_HEIGHT * text_height:
        return [(0, 0, width, height)]
    rows = blob.sum(axis=1)
    inked = rows > BAND_VALLEY * float(np.median(rows[rows > 0]))
    words = []
    gap = max(1, round(LETTER_GAP * text_height))
    for top, bottom in _runs(inked, 1):
        if not MIN_HEIGHT * text_height <= bottom - top <= MAX_HEIGHT * text_height:
            continue
        columns = blob[top:bottom].any(axis=0)
        for left, right in _runs(columns, gap):
            words.append((left, top, right - left, bottom - top))
    return words


def _runs(flags: npt.NDArray[np.bool_], gap: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of true flags, runs closer than ``gap`` joined."""
    found: list[tuple[int, int]] = []
    for start, end in runs(flags.tolist()):
        if found and start - found[-1][1] < gap:
            found[-1] = (found[-1][0], end)
        else:
            found.append((start, end))
    return found

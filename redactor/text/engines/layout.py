"""Pure geometry shared by engine adapters: quadrilaterals, and words cut out of a line.

Engines report a text run as a quadrilateral (top-left, top-right, bottom-right,
bottom-left), slightly rotated when the text is. Word boxes are cut from that quad
along its own top edge, so words on a tilted line get boxes that follow the tilt, and
the word cells tile the whole run: no glyph between two words is left outside a box.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from redactor.geometry import Box
from redactor.text.ocr import MalformedOcrOutput, OcrLine, OcrWord

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


def to_quad(raw: Any) -> Quad:
    """Four finite (x, y) points from an engine's nested list or array."""
    try:
        points = [(float(p[0]), float(p[1])) for p in raw]
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise MalformedOcrOutput("box is not a list of (x, y) points") from exc
    if len(points) != 4:
        raise MalformedOcrOutput(f"box has {len(points)} points, expected 4")
    if not all(math.isfinite(c) for p in points for c in p):
        raise MalformedOcrOutput("box has a non-finite coordinate")
    return (points[0], points[1], points[2], points[3])


def to_confidence(raw: Any) -> float:
    """A confidence in [0, 1] (engines sometimes return numpy scalars)."""
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise MalformedOcrOutput("confidence is not a number") from exc
    if not 0.0 <= value <= 1.0:
        raise MalformedOcrOutput("confidence is outside [0, 1]")
    return value


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def cell_box(quad: Quad, u0: float, u1: float) -> Box:
    """Axis-aligned box of the part of ``quad`` from ``u0`` to ``u1`` (fractions of its length)."""
    tl, tr, br, bl = quad
    return Box.around([_lerp(tl, tr, u0), _lerp(tl, tr, u1), _lerp(bl, br, u1), _lerp(bl, br, u0)])


def fraction_along(quad: Quad, points: Sequence[Point]) -> tuple[float, float]:
    """Where ``points`` start and end along the quad's top edge, as fractions in [0, 1]."""
    (x0, y0), (x1, y1) = quad[0], quad[1]
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return (0.0, 1.0)
    ts = [((px - x0) * dx + (py - y0) * dy) / length2 for px, py in points]
    return (min(max(min(ts), 0.0), 1.0), min(max(max(ts), 0.0), 1.0))


def tile(ranges: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Widen word ranges (sorted) so they meet halfway across each gap and span [0, 1]."""
    if not ranges:
        return []
    cuts = [0.0]
    for (_, left_end), (right_start, _) in itertools.pairwise(ranges):
        cuts.append(max(cuts[-1], (left_end + right_start) / 2))
    cuts.append(1.0)
    return [(cuts[i], max(cuts[i], cuts[i + 1])) for i in range(len(ranges))]


def char_ranges(text: str) -> list[tuple[str, float, float]]:
    """Words of ``text`` with the share of the run each spans, by character position."""
    words: list[tuple[str, float, float]] = []
    total = max(len(text), 1)
    start = None
    for i, ch in enumerate([*text, " "]):
        if ch.isspace() and start is not None:
            words.append((text[start:i], start / total, i / total))
            start = None
        elif not ch.isspace() and start is None:
            start = i
    return words


def line_from_quad(
    text: str,
    quad: Quad,
    confidence: float,
    words: Sequence[tuple[str, float, float, float]] | None = None,
) -> OcrLine:
    """An :class:`OcrLine` whose word boxes tile ``quad``.

    ``words`` are ``(text, start, end, confidence)`` with start and end as fractions along
    the run; without them, words are placed by character position.
    """
    if words is None:
        words = [(w, u0, u1, confidence) for w, u0, u1 in char_ranges(text)]
    cells = tile([(u0, u1) for _, u0, u1, _ in words])
    return OcrLine(
        text=text,
        box=Box.around(quad),
        confidence=confidence,
        words=tuple(
            OcrWord(w_text, cell_box(quad, u0, u1), w_conf)
            for (w_text, _, _, w_conf), (u0, u1) in zip(words, cells, strict=True)
        ),
    )

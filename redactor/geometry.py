"""Pure box geometry: scaling, clipping, padding, overlap and merging."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixel coordinates, ``x0 <= x1`` and ``y0 <= y1`` (exclusive end)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def scaled_about_center(self, factor: float) -> Box:
        """The box grown (or shrunk) by ``factor`` around its centre."""
        cx, cy = self.center
        hw, hh = self.width * factor / 2, self.height * factor / 2
        return Box(cx - hw, cy - hh, cx + hw, cy + hh)

    def padded(self, pixels: float) -> Box:
        return Box(self.x0 - pixels, self.y0 - pixels, self.x1 + pixels, self.y1 + pixels)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    def times(self, sx: float, sy: float | None = None) -> Box:
        """The box in a coordinate system scaled by ``sx`` (and ``sy``)."""
        sy = sx if sy is None else sy
        return Box(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)

    def clipped(self, width: float, height: float) -> Box:
        return Box(
            min(max(self.x0, 0.0), width),
            min(max(self.y0, 0.0), height),
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
        )

    def to_int(self) -> tuple[int, int, int, int]:
        """Integer pixel bounds that contain the box (floor of start, ceil of end)."""
        return (math.floor(self.x0), math.floor(self.y0), math.ceil(self.x1), math.ceil(self.y1))

    def as_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]

    @staticmethod
    def around(points: Iterable[tuple[float, float]]) -> Box:
        xs, ys = zip(*points, strict=True)
        return Box(min(xs), min(ys), max(xs), max(ys))


def clamp(box: Box, outer: Box) -> Box:
    """``box`` cut to ``outer`` (empty, not inverted, when they do not meet)."""
    x0, y0 = min(max(box.x0, outer.x0), outer.x1), min(max(box.y0, outer.y0), outer.y1)
    return Box(x0, y0, max(x0, min(box.x1, outer.x1)), max(y0, min(box.y1, outer.y1)))


def centre_within(outer: Box, box: Box) -> bool:
    """Whether ``box``'s centre lies in ``outer`` (edges included)."""
    cx, cy = box.center
    return outer.x0 <= cx <= outer.x1 and outer.y0 <= cy <= outer.y1


def within(outer: Box, box: Box) -> bool:
    """Whether ``box`` lies wholly in ``outer`` (edges included)."""
    return outer.x0 <= box.x0 and outer.y0 <= box.y0 and box.x1 <= outer.x1 and box.y1 <= outer.y1


def intersection(a: Box, b: Box) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, w) * max(0.0, h)


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def overlap_of_smaller(a: Box, b: Box) -> float:
    """Share of the smaller box covered by the other (1.0 when one contains the other)."""
    smaller = min(a.area, b.area)
    return intersection(a, b) / smaller if smaller > 0 else 0.0


def union_box(boxes: Sequence[Box]) -> Box:
    return Box(
        min(b.x0 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.x1 for b in boxes),
        max(b.y1 for b in boxes),
    )


def at_least(box: Box, side: float, width: int, height: int) -> Box:
    """``box`` grown about its centre to ``side`` in each direction, shifted to stay
    inside a ``width`` x ``height`` image, then clipped to it."""
    grow_x, grow_y = max(0.0, side - box.width) / 2, max(0.0, side - box.height) / 2
    box = Box(box.x0 - grow_x, box.y0 - grow_y, box.x1 + grow_x, box.y1 + grow_y)
    dx = max(0.0, -box.x0) - max(0.0, box.x1 - width)
    dy = max(0.0, -box.y0) - max(0.0, box.y1 - height)
    return box.shifted(dx, dy).clipped(width, height)


def disjoint(boxes: Sequence[Box]) -> list[Box]:
    """Merge overlapping boxes into their union until none overlap; top to bottom."""
    pending = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(pending)):
            for j in range(i + 1, len(pending)):
                if intersection(pending[i], pending[j]) > 0:
                    pending[i] = union_box([pending[i], pending[j]])
                    del pending[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(pending, key=lambda b: (b.y0, b.x0))


def merge_overlapping(
    boxes: Sequence[Box], scores: Sequence[float], threshold: float
) -> list[tuple[Box, float]]:
    """Merge boxes that overlap by more than ``threshold`` (share of the smaller box).

    Merged boxes take the union of their extents and the best score, so redaction
    covers everything any detection covered: a face seen whole in one tile and cut
    at a neighbouring tile's edge becomes one box that contains both.
    """
    groups: list[tuple[Box, float]] = []
    for i in sorted(range(len(boxes)), key=lambda i: scores[i], reverse=True):
        box, score = boxes[i], scores[i]
        merged = True
        while merged:
            merged = False
            for g, (gbox, gscore) in enumerate(groups):
                if overlap_of_smaller(box, gbox) > threshold:
                    box, score = union_box([box, gbox]), max(score, gscore)
                    del groups[g]
                    merged = True
                    break
        groups.append((box, score))
    return groups

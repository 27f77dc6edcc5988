"""Seeded placement of rectangles on a canvas without overlaps."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

import numpy as np

from redactor.geometry import Box

#: Candidate top-left corners for a ``width`` x ``height`` rectangle, in trial order.
Spots = Callable[[int, int], Iterable[tuple[int, int]]]


class Layout:
    """Takes the first candidate spot that keeps ``gap`` pixels from everything placed."""

    def __init__(self, spots: Spots, gap: float) -> None:
        self.spots, self.gap = spots, gap
        self.taken: list[Box] = []

    def reserve(self, box: Box) -> None:
        self.taken.append(box)

    def place(self, width: int, height: int) -> tuple[int, int] | None:
        """A free top-left corner, taken, or None when no candidate fits."""
        for x, y in self.spots(width, height):
            box = Box(x, y, x + width, y + height)
            if all(apart(box, other, self.gap) for other in self.taken):
                self.taken.append(box)
                return x, y
        return None


def apart(a: Box, b: Box, gap: float) -> bool:
    return a.x1 + gap <= b.x0 or b.x1 + gap <= a.x0 or a.y1 + gap <= b.y0 or b.y1 + gap <= a.y0


def fractional_spots(rng: random.Random, size: tuple[int, int], tries: int = 400) -> Spots:
    """Spots drawn as fractions of the free range, so a scene drawn at another scale with
    the same seed puts everything in the same relative place."""

    def spots(width: int, height: int) -> list[tuple[int, int]]:
        draws = [(rng.random(), rng.random()) for _ in range(tries)]
        return [
            (round(u * max(0, size[0] - width)), round(v * max(0, size[1] - height)))
            for u, v in draws
        ]

    return spots


def margin_spots(rng: np.random.Generator, size: tuple[int, int], margin: int) -> Spots:
    """Spots at least ``margin`` pixels inside the canvas; none when the rectangle does not fit."""

    def spots(width: int, height: int) -> Iterable[tuple[int, int]]:
        room_x, room_y = size[0] - width - margin, size[1] - height - margin
        if room_x <= margin or room_y <= margin:
            return
        for _ in range(300):
            yield int(rng.integers(margin, room_x)), int(rng.integers(margin, room_y))

    return spots

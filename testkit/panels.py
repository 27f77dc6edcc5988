"""Text drawn on cards with every segment's ink box known to the pixel.

Each segment of text is also drawn alone into a mask that goes through the same tilt as
its card, so its box after the tilt is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from redactor.geometry import Box
from testkit.fonts import font

RGB = tuple[int, int, int]
PRODUCT = "product"
PII_PREFIX = "pii."


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of one text line. ``kind``: ``pii.<kind>`` must be covered by findings,
    ``product`` must get none, None (a label such as "Tel:") may go either way."""

    text: str
    kind: str | None = None

    @property
    def personal(self) -> bool:
        return self.kind is not None and self.kind.startswith(PII_PREFIX)


def pii(text: str, kind: str) -> Segment:
    """Personal text of ``kind`` (``pii.name``, ``pii.email``...)."""
    return Segment(text, kind)


def product(text: str) -> Segment:
    return Segment(text, PRODUCT)


@dataclass(frozen=True, slots=True)
class Panel:
    """Lines of segments on a card of colour ``paper``, tilted by ``angle`` degrees."""

    lines: Sequence[Sequence[Segment]]
    font: str
    size: int
    #: Font size per line (headlines); ``size`` for every line when None.
    sizes: Sequence[int] | None = None
    angle: float = 0.0
    paper: RGB = (248, 246, 240)
    ink: RGB = (20, 20, 25)
    #: Padding around the text beyond half the largest font size.
    margin: int = 8


def ink_box(mask: Image.Image) -> Box | None:
    ys, xs = np.nonzero(np.asarray(mask) > 96)
    if len(xs) == 0:
        return None
    return Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def render_panel(panel: Panel, scale: float = 1.0) -> tuple[Image.Image, list[tuple[Segment, Box]]]:
    """The tilted card (RGBA) and each non-blank segment's ink box in its coordinates,
    every size multiplied by ``scale``."""
    base = list(panel.sizes or [panel.size] * len(panel.lines))
    sizes = [max(8, round(s * scale)) for s in base]
    fonts = [font(panel.font, s) for s in sizes]
    pad = max(sizes) // 2 + round(panel.margin * scale)
    widths = [
        sum(f.getlength(s.text) for s in line) for f, line in zip(fonts, panel.lines, strict=True)
    ]
    heights = [round(s * 1.45) for s in sizes]
    card = Image.new(
        "RGBA", (int(max(widths)) + 2 * pad, sum(heights) + 2 * pad), (*panel.paper, 255)
    )
    draw = ImageDraw.Draw(card)
    boxes = []
    y = pad
    for f, line, height in zip(fonts, panel.lines, heights, strict=True):
        x = float(pad)
        for segment in line:
            draw.text((x, y), segment.text, font=f, fill=(*panel.ink, 255))
            if segment.text.strip():
                mask = Image.new("L", card.size, 0)
                ImageDraw.Draw(mask).text((x, y), segment.text, font=f, fill=255)
                box = ink_box(mask.rotate(panel.angle, Image.Resampling.BILINEAR, expand=True))
                if box is not None:
                    boxes.append((segment, box))
            x += f.getlength(segment.text)
        y += height
    return card.rotate(panel.angle, Image.Resampling.BICUBIC, expand=True), boxes

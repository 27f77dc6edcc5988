"""Where an image has any local contrast at all: the cheap pass that lets detectors skip
flat areas (a studio's seamless backdrop, a white margin, a blank wall).

A face needs eyes, brows and a mouth darker or lighter than the skin around them, and a
glyph needs ink that differs from its paper; both show up as a local range of at least a
few grey levels inside a small window. Where no window of ``WINDOW`` pixels spans
``MIN_RANGE`` levels in any colour channel, neither a face nor legible text can be.

The test works per colour channel, so text that differs from its background in hue but
not in brightness still counts as detail, and on overlapping windows (a morphological
gradient), so an edge is found wherever it falls. JPEG noise on a flat backdrop spans
2-6 levels at the qualities uploads come in; a noisy sensor's flat wall spans more and is
simply not skipped. Skipping is an optimisation only: when in doubt, a region counts as
detailed.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from redactor.findings import RGBImage
from redactor.geometry import Box, at_least, disjoint

#: Side of the square window the local range is taken over.
WINDOW = 8
#: Smallest range (of 255 levels, in any channel) inside a window that counts as detail.
MIN_RANGE = 12
#: Larger images are measured at half resolution with half the window (a face of 20 px
#: still spans 10 px there); at full resolution the pass would cost 90 ms at 12 MP.
HALF_RESOLUTION_ABOVE = 4_000_000


class DetailMap:
    """For one RGB image: whether a box holds any detail, in constant time per box."""

    def __init__(
        self,
        image: RGBImage,
        *,
        window: int = WINDOW,
        min_range: int = MIN_RANGE,
        half: RGBImage | None = None,
    ):
        """``half``: the image's half-resolution copy if the caller has one (the 2x2
        area average of an image with even sides, as :class:`ImageContext` makes it:
        the very pixels this map would shrink to itself), used for large images."""
        self.height, self.width = image.shape[:2]
        self._scale = 1.0
        if self.height * self.width > HALF_RESOLUTION_ABOVE:
            self._scale = 0.5
            window = max(2, window // 2)
            even = self.width % 2 == 0 and self.height % 2 == 0
            given = half is not None and half.shape[:2] == (self.height // 2, self.width // 2)
            if even and given and half is not None:
                image = half
            else:
                shrunk = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
                image = np.asarray(shrunk, dtype=np.uint8)
        kernel = np.ones((window, window), np.uint8)
        gradient = cv2.morphologyEx(image, cv2.MORPH_GRADIENT, kernel)
        strongest = gradient
        if gradient.ndim == 3:  # cv2.max per channel: numpy's max over axis 2 is 10x slower
            channels = cv2.split(gradient)
            strongest = channels[0]
            for channel in channels[1:]:
                strongest = cv2.max(strongest, channel)
        detailed = (strongest >= min_range).astype(np.uint8)
        self._integral: npt.NDArray[np.int32] = np.asarray(
            cv2.integral(detailed, sdepth=cv2.CV_32S), dtype=np.int32
        )
        self._rows = np.flatnonzero(detailed.any(axis=1))
        self._cols = np.flatnonzero(detailed.any(axis=0))
        self._detailed = detailed

    def count(self, box: Box) -> int:
        """Detailed pixels inside ``box`` (clipped to the image; at half resolution, a
        quarter of them)."""
        if self._scale != 1.0:
            box = box.times(self._scale)
        rows, cols = self._integral.shape[0] - 1, self._integral.shape[1] - 1
        x0, y0, x1, y1 = box.clipped(cols, rows).to_int()
        if x1 <= x0 or y1 <= y0:
            return 0
        s = self._integral
        return int(s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0])

    def has_detail(self, box: Box) -> bool:
        return self.count(box) > 0

    def bounds(self, margin: float = 0) -> Box | None:
        """The smallest box holding every detailed pixel, grown by ``margin``; ``None``
        for an image that is flat everywhere."""
        if not len(self._rows):
            return None
        box = Box(
            float(self._cols[0]),
            float(self._rows[0]),
            float(self._cols[-1] + 1),
            float(self._rows[-1] + 1),
        ).times(1 / self._scale)
        return box.padded(margin).clipped(self.width, self.height)

    def regions(self, gap: int, min_side: float = 0) -> list[Box]:
        """Boxes around the groups of detailed pixels: pixels closer than ``gap`` belong
        to one group (a dilation by ``gap``, which also leaves a margin of ``gap`` / 2
        around each), every box grown to at least ``min_side`` a side (within the
        image), and boxes that then overlap merged. No two boxes overlap, and every
        detailed pixel lies at least ``gap`` / 2 inside one of them (or at the image's
        edge). Empty for an image that is flat everywhere."""
        if not len(self._rows):
            return []
        reach = max(1, round(gap * self._scale))
        joined = cv2.dilate(self._detailed, np.ones((reach, reach), np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        boxes = []
        for x, y, w, h, _area in stats[1:count]:
            box = Box(float(x), float(y), float(x + w), float(y + h)).times(1 / self._scale)
            boxes.append(at_least(box, min_side, self.width, self.height))
        return disjoint(boxes)

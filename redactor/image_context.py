"""Work on one image that several detectors need, done once per image.

The face and the text detectors both need the image's detail map (where anything but a
flat backdrop is, :mod:`redactor.detail`), and the face families each shrink the image
to a few canvases. The pipeline builds one :class:`ImageContext` per image it detects
on and hands it to every detector (``Detector.detect(image, context)``), so that this
work is done once, not once per detector, and never cached by array address across
images. A detector called without a context (tests, benchmarks) builds its own.

Shrunk copies come from a half-resolution copy when they are at most half the image's
size (and its sides are even, so the copy is an exact 2x2 average), at a quarter of the
pixels read: a 12 MP photo's pyramid levels each read 12 MP otherwise (35 ms a level
at 4000x3000 on the benchmark machine; 6 ms for the half copy, then 12). The half copy
is also the copy asked for at exactly half size (CenterFace's faint pass equalises it
at 12 MP), and the one a large image's detail map is made from (it halves such images
the same way), so a 12 MP frame is halved once, not twice and copied. At even
factors that is the image's own area average to within the half copy's rounding; at
others the half copy's pixel pairs straddle the output pixels' edges where single
pixels would, a shrink as valid (on a photo, 0.4 levels apart on average).
"""

from __future__ import annotations

import cv2
import numpy as np

from redactor.detail import HALF_RESOLUTION_ABOVE, DetailMap
from redactor.findings import RGBImage

#: Copies smaller than this share of the image's side are shrunk from the half copy.
HALF_COPY_AT_MOST = 0.5
#: Above this many pixels a face pyramid level between half and full size is shrunk
#: bilinearly (:meth:`ImageContext.level`).
LINEAR_LEVELS_ABOVE = HALF_RESOLUTION_ABOVE


class ImageContext:
    """One image and what detectors derive from it, each computed on first use."""

    def __init__(self, image: RGBImage) -> None:
        self.image = image
        self._detail: DetailMap | None = None
        self._half: RGBImage | None = None
        self._resized: dict[tuple[int, int], RGBImage] = {}
        self._levels: dict[tuple[int, int], RGBImage] = {}

    @classmethod
    def of(cls, image: RGBImage, context: ImageContext | None) -> ImageContext:
        """``context`` if it is the context of ``image`` itself, else a new one: a
        context built for another array (another view of the frame) is never used."""
        if context is not None and context.image is image:
            return context
        return cls(image)

    @property
    def detail(self) -> DetailMap:
        """The image's detail map (:class:`redactor.detail.DetailMap`)."""
        if self._detail is None:
            height, width = self.image.shape[:2]
            if height * width > HALF_RESOLUTION_ABOVE and self._even:
                # A large image's map is made at half resolution: from the half copy.
                self._detail = DetailMap(self.image, half=self._half_copy())
            else:
                self._detail = DetailMap(self.image)
        return self._detail

    def resized(self, width: int, height: int) -> RGBImage:
        """The image shrunk (area averaging) to ``width`` x ``height``; the image itself
        at its own size. Enlarging is the caller's business: this only shrinks."""
        full_h, full_w = self.image.shape[:2]
        if (width, height) == (full_w, full_h):
            return self.image
        if width > full_w or height > full_h:
            raise ValueError("ImageContext.resized only shrinks")
        key = (width, height)
        if self._even and key == (full_w // 2, full_h // 2):
            return self._half_copy()
        if key not in self._resized:
            source = self._source_for(width, height)
            shrunk = cv2.resize(source, key, interpolation=cv2.INTER_AREA)
            self._resized[key] = np.asarray(shrunk, dtype=np.uint8)
        return self._resized[key]

    def level(self, width: int, height: int) -> RGBImage:
        """A face detector's pyramid level of ``width`` x ``height``: :meth:`resized`,
        except on an image of over :data:`LINEAR_LEVELS_ABOVE` pixels shrunk to more
        than half its side, which is shrunk bilinearly.

        Area averaging at a factor between one half and one costs 35-50 ms at 12 MP
        (it weighs up to 3x3 source pixels per output pixel), bilinear 5-9 ms; at
        those factors a bilinear shrink skips no source row or column. On the labelled
        real photos enlarged to 3000 and 4000 px it lost and added no face finding
        (boxes moved by up to 28 px) and recall was unchanged (docs/benchmarks.md,
        "Bilinear pyramid levels over 4 MP"). Smaller levels come from the half copy as
        before, and the text stage's copy is always area-averaged (small print).
        """
        full_h, full_w = self.image.shape[:2]
        if (
            full_w * full_h <= LINEAR_LEVELS_ABOVE
            or self._half_or_less(width, height)
            or (width, height) == (full_w, full_h)
        ):
            return self.resized(width, height)
        if width > full_w or height > full_h:
            raise ValueError("ImageContext.level only shrinks")
        key = (width, height)
        if key not in self._levels:
            shrunk = cv2.resize(self.image, key, interpolation=cv2.INTER_LINEAR)
            self._levels[key] = np.asarray(shrunk, dtype=np.uint8)
        return self._levels[key]

    @property
    def _even(self) -> bool:
        """Whether the image's sides are even (its half copy an exact 2x2 average)."""
        full_h, full_w = self.image.shape[:2]
        return full_w % 2 == 0 and full_h % 2 == 0

    def _half_or_less(self, width: int, height: int) -> bool:
        """Whether a copy of that size is at most :data:`HALF_COPY_AT_MOST` of the image's
        sides (one the half copy can give)."""
        full_h, full_w = self.image.shape[:2]
        return width <= HALF_COPY_AT_MOST * full_w and height <= HALF_COPY_AT_MOST * full_h

    def _source_for(self, width: int, height: int) -> RGBImage:
        if not (self._even and self._half_or_less(width, height)):
            return self.image
        return self._half_copy()

    def _half_copy(self) -> RGBImage:
        """The half-resolution copy (of an image with even sides), made once."""
        if self._half is None:
            full_h, full_w = self.image.shape[:2]
            half = cv2.resize(self.image, (full_w // 2, full_h // 2), interpolation=cv2.INTER_AREA)
            self._half = np.asarray(half, dtype=np.uint8)
        return self._half

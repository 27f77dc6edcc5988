"""Photos to draw on: scikit-image's public-domain samples and the shared test images."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

Pixels = npt.NDArray[np.uint8]


@cache
def sample_photo(name: str) -> Image.Image:
    """A scikit-image sample photo (``coffee``, ``chelsea``, ``astronaut``...) as RGB."""
    from skimage import data

    return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")


def photo_background(name: str, size: tuple[int, int]) -> Image.Image:
    """A scikit-image sample photo scaled to ``size`` (width, height)."""
    return sample_photo(name).resize(size, Image.Resampling.BICUBIC)


def upright_rgb(path: Path) -> Pixels:
    """An image file's upright RGB pixels (EXIF orientation applied, transparency
    flattened onto white)."""
    with Image.open(path) as image:
        rgba = ImageOps.exif_transpose(image).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))

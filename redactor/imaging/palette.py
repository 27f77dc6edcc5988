"""GIF output: exact palettes where the colours fit, and delays that fit a GIF field."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

#: A GIF frame's delay is 16 bits of hundredths of a second.
_GIF_MAX_DURATION_MS = 65_535 * 10


def fitted_gif_durations(durations: list[int]) -> list[int]:
    """Delays scaled so that the whole animation fits in one GIF delay field.

    Pillow's writer merges frames it finds identical (by its own comparison, which also
    calls a frame identical when it only grows the canvas) and adds their delays with
    no bound; past 65,535 hundredths of a second that is an ``OverflowError`` (found by
    fuzzing). Scaled like this, no merge can overflow; it is needed only then.
    """
    total = sum(durations)
    return [duration * _GIF_MAX_DURATION_MS // total for duration in durations]


_TRANSPARENT_KEY = 1 << 24  # sorts after every packed RGB colour


def palette_image(frame: npt.NDArray[np.uint8]) -> Image.Image:
    """A ``P`` image with the frame's exact colours if they fit 256 entries, else quantised."""
    rgb = frame[..., :3].astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    transparent = frame[..., 3] < 128 if frame.shape[2] == 4 else None
    if transparent is not None:
        packed[transparent] = _TRANSPARENT_KEY
    colours, indices = np.unique(packed, return_inverse=True)
    if len(colours) > 256:
        return _quantised(frame[..., :3], transparent)
    image = Image.fromarray(indices.reshape(packed.shape).astype(np.uint8))
    palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1)
    image.putpalette(palette.astype(np.uint8).tobytes())
    if transparent is not None and colours[-1] == _TRANSPARENT_KEY:
        image.info["transparency"] = len(colours) - 1
    return image


def _quantised(
    rgb: npt.NDArray[np.uint8], transparent: npt.NDArray[np.bool_] | None
) -> Image.Image:
    colours = 256 if transparent is None else 255
    quantised = Image.fromarray(rgb).quantize(
        colours, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    if transparent is None:
        return quantised
    indices = np.array(quantised)
    indices[transparent] = 255
    image = Image.fromarray(indices)
    palette = quantised.getpalette() or []
    image.putpalette(bytes(palette[: 255 * 3]).ljust(256 * 3, b"\x00"))
    image.info["transparency"] = 255
    return image

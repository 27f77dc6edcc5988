"""The ``blur`` style's pixels: looks like a heavy blur, keeps nothing that could be undone.

What is kept of the region is ``CELLS`` area-averaged colour samples across it (the
same few samples whatever its size, so no deblurring model has detail to recover), each
moved by a random amount of *luminance* (``LUMA_NOISE``; all colour channels by the same
amount, so the colours stay the region's own and the result cannot be matched exactly
against a re-blurred guess). The samples are enlarged smoothly (bicubic to a small
intermediate, a Gaussian there, then bilinear) and a faint luminance grain
(``GRAIN``) is added, so the patch has the texture of a photo rather than of plastic.
The mask is replaced whole; the edge fades into the pixels around it over a band
``FEATHER_FRACTION`` of the mask's half-size wide, outside the mask, so no original
pixel inside it survives. Cost does not grow with the region beyond a few passes over
its pixels.
"""

from __future__ import annotations

import secrets

import cv2
import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8] | npt.NDArray[np.uint16]
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]

#: Samples kept across the region's longer side.
CELLS = 6
#: Standard deviation of the luminance moved per sample, as a share of the value range.
LUMA_NOISE = 0.06
#: Standard deviation of the per-pixel luminance grain, as a share of the value range.
GRAIN = 0.0
#: Width of the fade outside the mask, as a share of the mask's smaller half-side.
FEATHER_FRACTION = 0.08
#: Samples are enlarged to this many pixels per cell before the smoothing Gaussian.
SMOOTH_STEP = 8


def natural_blur(region: Pixels, mask: Mask) -> None:
    """Blur ``region`` in place inside ``mask`` (and fade it out just outside)."""
    if not mask.any():
        return
    top = 65535.0 if region.dtype == np.uint16 else 255.0
    channels = 3 if region.ndim == 3 and region.shape[2] >= 3 else 1
    colour = (region[..., :channels] if region.ndim == 3 else region[..., None]).astype(np.float32)
    rng = np.random.default_rng(secrets.randbits(64))
    blurred = _smooth_samples(colour, rng, top)
    height, width = mask.shape
    blurred += rng.normal(0.0, GRAIN * top, size=(height, width, 1)).astype(np.float32)
    alpha = _feathered(mask)[..., None]
    out = np.clip(alpha * blurred + (1 - alpha) * colour, 0, top).astype(region.dtype)
    if region.ndim == 3:
        region[..., :channels] = out
    else:
        region[...] = out[..., 0]


def _smooth_samples(colour: Floats, rng: np.random.Generator, top: float) -> Floats:
    height, width, channels = colour.shape
    scale = CELLS / max(height, width)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(colour, small_size, interpolation=cv2.INTER_AREA).reshape(
        small_size[1], small_size[0], channels
    )
    luma = rng.normal(0.0, LUMA_NOISE * top, size=(small_size[1], small_size[0], 1))
    small = small + luma.astype(np.float32)
    mid_size = (small_size[0] * SMOOTH_STEP, small_size[1] * SMOOTH_STEP)
    mid = cv2.resize(small, mid_size, interpolation=cv2.INTER_CUBIC)
    mid = cv2.GaussianBlur(mid, (0, 0), SMOOTH_STEP / 2, borderType=cv2.BORDER_REFLECT)
    big = cv2.resize(mid, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(big, dtype=np.float32).reshape(height, width, channels)


def _feathered(mask: Mask) -> Floats:
    """1 inside the mask, falling linearly to 0 over the feather band outside it."""
    ys, xs = np.nonzero(mask)
    half = min(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) / 2
    band = FEATHER_FRACTION * half
    if band < 1:
        return mask.astype(np.float32)
    outside = np.asarray((~mask).astype(np.uint8))
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
    return np.asarray(np.clip(1.0 - distance / band, 0.0, 1.0), dtype=np.float32)

"""Whether an item was redacted or kept, judged from pixels alone, the same for every tool.

An item's box is cut into near-square cells; a cell *changed* if its mean absolute
difference is large or most of its fine detail is gone (blur and flat fills count,
added noise does not hide a face). Redacted: every cell changed. Kept: none did.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt

from redactor.geometry import Box

#: Faces are judged on the middle half of their box (eyes, nose, mouth): the checked
#: boxes hold differing margins of hair and chin, and every tool masks an ellipse.
FACE_CORE = 0.5
#: A cell changed if its mean absolute difference exceeds this (0-255 scale) ...
CHANGED_MEAN_DIFF = 40.0
#: ... or if less than this share of its fine detail is still there (blur, flat fill).
DETAIL_KEPT_MIN = 0.5

Pixels = npt.NDArray[np.uint8]


def cells(box: Box, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The box cut into near-square cells along its long side, clipped to the image."""
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return []
    count = max(1, round(max(w, h) / min(w, h)))
    if w >= h:
        edges = np.linspace(x0, x1, count + 1).round().astype(int)
        return [(int(a), y0, int(b), y1) for a, b in itertools.pairwise(edges)]
    edges = np.linspace(y0, y1, count + 1).round().astype(int)
    return [(x0, int(a), x1, int(b)) for a, b in itertools.pairwise(edges)]


def detail_kept(before: Pixels, after: Pixels) -> float | None:
    """How much of ``before``'s fine detail ``after`` still has (0..1); ``None`` if flat.

    Fine detail is the grey image minus its Gaussian blur at 1/8 of the cell's short
    side. Kept detail is the correlation of the two (noise added by a redaction does not
    correlate) times their energy ratio (a flat fill has none).
    """
    sigma = max(1.0, min(before.shape[:2]) / 8)
    fine = [_fine_detail(image, sigma) for image in (before, after)]
    spread = [float(f.std()) for f in fine]
    if spread[0] < 1.0:
        return None
    if spread[1] < 1e-6:
        return 0.0
    correlation = float(np.mean((fine[0] - fine[0].mean()) * (fine[1] - fine[1].mean())))
    correlation /= spread[0] * spread[1]
    return max(0.0, correlation) * min(1.0, spread[1] / spread[0])


def _fine_detail(image: Pixels, sigma: float) -> npt.NDArray[np.float32]:
    grey = image.astype(np.float32).mean(axis=2)
    return np.asarray(grey - cv2.GaussianBlur(grey, (0, 0), sigma), dtype=np.float32)


def changed(before: Pixels, after: Pixels) -> bool:
    diff = float(np.abs(before.astype(np.int16) - after.astype(np.int16)).mean())
    if diff > CHANGED_MEAN_DIFF:
        return True
    kept = detail_kept(before, after)
    return kept is not None and kept < DETAIL_KEPT_MIN


def _cell_changes(before: Pixels, after: Pixels, box: Box) -> list[bool]:
    height, width = before.shape[:2]
    return [
        changed(before[y0:y1, x0:x1], after[y0:y1, x0:x1])
        for x0, y0, x1, y1 in cells(box, width, height)
    ]


def redacted(before: Pixels, after: Pixels, box: Box) -> bool:
    """Every cell of the box changed strongly: the item is gone, not just touched."""
    changes = _cell_changes(before, after, box)
    return bool(changes) and all(changes)


def kept(before: Pixels, after: Pixels, box: Box) -> bool:
    """No cell of the box changed strongly: the item is still readable."""
    return not any(_cell_changes(before, after, box))

"""Box overlaps on arrays: the merging a crowd needs, at numpy speed.

A crowd's full-resolution CenterFace pass gives thousands of boxes and hundreds of
faces; pairwise loops took most of a second over them. These compare one box with all
the others at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from redactor.geometry import Box, overlap_of_smaller

Boxes = npt.NDArray[np.float32]

#: Two face boxes see the same face only when the narrower is at least this share of
#: the wider's width: a spurious box hundreds of pixels wide (a document's text blocks
#: taken for eyes) contains a real face without confirming it, or being confirmed by it.
SAME_FACE_SCALE = 0.4


def same_face(a: Box, b: Box, min_overlap: float) -> bool:
    """Whether ``a`` and ``b`` overlap by more than ``min_overlap`` of the smaller and
    are of about one size (:data:`SAME_FACE_SCALE`)."""
    narrow, wide = sorted((a.width, b.width))
    return overlap_of_smaller(a, b) > min_overlap and narrow >= SAME_FACE_SCALE * wide


def overlaps_of_smaller(
    box: npt.NDArray[np.floating[Any]], boxes: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.float64]:
    """:func:`redactor.geometry.overlap_of_smaller` of one box (x0, y0, x1, y1) against
    each of ``boxes`` (N x 4), at once (in double precision, as the loop computed it)."""
    box, boxes = box.astype(np.float64), boxes.astype(np.float64)
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    smaller = np.minimum((box[2] - box[0]) * (box[3] - box[1]), areas)
    safe = np.where(smaller > 0, smaller, 1)
    return np.asarray(np.where(smaller > 0, inter / safe, 0), dtype=np.float64)


def suppressed(boxes: Boxes, scores: npt.NDArray[np.float32], threshold: float) -> list[int]:
    """Indices of the boxes kept, best score first: a box is dropped when it overlaps a
    better one by more than ``threshold`` (share of the smaller box covered), so a face
    seen whole in one tile and cut at a neighbouring tile's edge is one face. One
    vectorised pass per kept box (a crowd's full-resolution pass gives thousands of
    boxes, which a pairwise loop took most of a second over)."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while len(order):
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        order = rest[overlaps_of_smaller(boxes[best], boxes[rest]) <= threshold]
    return kept

"""What a document holds besides text: the portrait's photo area, the ghost portrait, the
signature and codes. Pure image geometry and OpenCV; no models.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from redactor.findings import RGBImage
from redactor.geometry import Box, clamp
from redactor.text import codes

Grey = npt.NDArray[np.uint8]

#: The photo area around a face box, as shares of the box's width and height:
#: left/right, above, below. Face findings are head boxes already (hair to chin, see
#: redactor.faces), so the photo adds the neck and shoulders below and a little around.
PHOTO_SIDES = 0.08
PHOTO_ABOVE = 0.05
PHOTO_BELOW = 0.25
#: Ghost portraits are this share of the main portrait's size...
GHOST_SCALES = (0.2, 0.25, 0.3, 0.36, 0.43, 0.5, 0.6, 0.72, 0.85)
#: ...and match its grey levels with at least this normalised correlation. On the 23
#: real specimens, the best match away from every face scores 0.42-0.73 where there is
#: no ghost (guilloches, emblems, text correlate with a 20-pixel face); a ghost the face
#: detector misses, printed from the same photograph, scores well above.
GHOST_MIN_CORRELATION = 0.75
#: The signature is looked for this many label heights above and below its label, and
#: this many label widths to its right.
SIGNATURE_REACH = 2.5
SIGNATURE_RIGHT = 1.5
#: Ink: darker than the paper around it (a median over a few line heights) by this much.
INK_CONTRAST = 60
INK_MIN_PIXELS = 12


def photo_area(face: Box, extent: Box) -> Box:
    """The rectangle of a document photo around a face box, inside the document."""
    w, h = face.width, face.height
    area = Box(
        face.x0 - PHOTO_SIDES * w,
        face.y0 - PHOTO_ABOVE * h,
        face.x1 + PHOTO_SIDES * w,
        face.y1 + PHOTO_BELOW * h,
    )
    return Box(
        max(area.x0, extent.x0),
        max(area.y0, extent.y0),
        min(area.x1, extent.x1),
        min(area.y1, extent.y1),
    )


def _grey(image: RGBImage, box: Box) -> Grey:
    x0, y0, x1, y1 = box.clipped(image.shape[1], image.shape[0]).to_int()
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    return np.asarray(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def ghost_portraits(image: RGBImage, faces: Sequence[Box], extent: Box) -> list[Box]:
    """A smaller copy of the document's largest portrait elsewhere in it (its photo
    area), or nothing.

    The ghost image is the same photograph, printed lighter, in one colour or behind a
    pattern; normalised correlation ignores brightness and contrast, so matching the
    portrait's face at smaller scales finds it where a face detector often does not.
    Matches that touch a face are not looked at (the face detector found that one), and
    of the rest only the best over all scales counts: a document prints one ghost, and
    taking one match per scale filled 20-pixel patches of guilloche on most specimens.
    """
    if not faces:
        return []
    face = max(faces, key=lambda f: f.area)
    template = _grey(image, face)
    region_box = Box(*(float(v) for v in extent.clipped(image.shape[1], image.shape[0]).to_int()))
    region = _grey(image, region_box)
    if template.size == 0 or region.size == 0 or float(template.std()) < 8:
        return []
    taken = [photo_area(f, extent).shifted(-region_box.x0, -region_box.y0) for f in faces]
    best: tuple[float, Box] | None = None
    for scale in GHOST_SCALES:
        w, h = round(template.shape[1] * scale), round(template.shape[0] * scale)
        if w < 12 or h < 12 or w >= region.shape[1] or h >= region.shape[0]:
            continue
        small = cv2.resize(template, (w, h), interpolation=cv2.INTER_AREA)
        scores = cv2.matchTemplate(region, small, cv2.TM_CCOEFF_NORMED)
        for area in taken:
            # every placement whose window would overlap the face's photo area
            x0, y0, x1, y1 = area.to_int()
            scores[max(0, y0 - h + 1) : max(0, y1), max(0, x0 - w + 1) : max(0, x1)] = -1.0
        _, score, _, (x, y) = cv2.minMaxLoc(scores)
        if score >= GHOST_MIN_CORRELATION and (best is None or score > best[0]):
            best = (float(score), Box(x, y, x + w, y + h).shifted(region_box.x0, region_box.y0))
    return [] if best is None else [photo_area(best[1], extent)]


def signature_ink(image: RGBImage, label: Box, extent: Box, text: Sequence[Box]) -> Box | None:
    """The box around the ink near a signature label that no text line explains (lines
    are kept or redacted on their own; a signature OCR read as a line is one of them)."""
    h, w = label.height, label.width
    reach = Box(
        label.x0,
        label.y0 - SIGNATURE_REACH * h,
        label.x1 + SIGNATURE_RIGHT * w,
        label.y1 + SIGNATURE_REACH * h,
    )
    window = clamp(reach, extent)
    window = Box(*(float(v) for v in window.clipped(image.shape[1], image.shape[0]).to_int()))
    grey = _grey(image, window)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return None
    size = max(3, int(3 * h) | 1)
    paper = cv2.medianBlur(grey, size)
    ink = (paper.astype(np.int16) - grey.astype(np.int16)) > INK_CONTRAST
    for box in [label, *text]:
        x0, y0, x1, y1 = (
            box.shifted(-window.x0, -window.y0).clipped(grey.shape[1], grey.shape[0]).to_int()
        )
        ink[y0:y1, x0:x1] = False
    ys, xs = np.nonzero(ink)
    if len(xs) < INK_MIN_PIXELS:
        return None
    return Box(
        window.x0 + float(xs.min()),
        window.y0 + float(ys.min()),
        window.x0 + float(xs.max() + 1),
        window.y0 + float(ys.max() + 1),
    )


def codes_in(image: RGBImage, extent: Box) -> list[Box]:
    """Every decodable barcode and 2-D code inside the extent, whatever its content (a
    document's PDF417 holds the holder's data even where it reads like a product code).
    Codes that cannot be decoded are already redacted by the code detector."""
    region = Box(*(float(v) for v in extent.clipped(image.shape[1], image.shape[0]).to_int()))
    grey = _grey(image, region)
    if grey.shape[0] < 16 or grey.shape[1] < 16:
        return []
    boxes = [c.box for c in codes.read_codes(grey)]
    return [b.shifted(region.x0, region.y0) for b in boxes if b.area > 0]

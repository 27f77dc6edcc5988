"""What a document holds besides text: the portrait's photo area, the ghost portrait, the
signature and codes. Pure image geometry and OpenCV; no models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from redactor.documents.margins import boxes_mask
from redactor.faces import centerface, mediapipe
from redactor.faces.base import HeadShape
from redactor.findings import RGBImage
from redactor.geometry import Box, clamp, intersection, union_box
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


#: How each face family's head box lies around its face box (redactor.faces): a face
#: finding's box is the union of its families' heads, and the face boxes inside it are
#: found by undoing that.
HEAD_SHAPES: dict[str, HeadShape] = {"centerface": centerface.HEAD, "mediapipe": mediapipe.HEAD}
#: The face core is grown by this share of its size on every side: merged heads of
#: several families (and passes) are a union, and undoing one shape on it is an estimate.
CORE_MARGIN = 0.05


def face_core(head: Box, families: Sequence[str], frame: Box) -> Box:
    """The face inside a face finding's ``head`` box: the face box each of ``families``
    boxed, undone from its head shape (:data:`HEAD_SHAPES`), unioned and grown by
    :data:`CORE_MARGIN`. The head box adds hair, ears and a share of the background on
    every side, and on a document that share holds the labels printed beside the photo;
    the face itself is never given up. The whole head box (fail closed) when a family
    is unknown or the head was clipped at the ``frame`` (its shape is then lost)."""
    shapes = [HEAD_SHAPES.get(f) for f in families]
    clipped = (
        head.x0 <= frame.x0 or head.y0 <= frame.y0 or head.x1 >= frame.x1 or head.y1 >= frame.y1
    )
    if not shapes or clipped:
        return head
    faces = []
    for shape in shapes:
        if shape is None:
            return head
        height = head.height / (1 + shape.above + shape.below)
        width = min(head.width, head.width / shape.width)
        cx, top = head.center[0], head.y0 + shape.above * height
        faces.append(Box(cx - width / 2, top, cx + width / 2, top + height))
    core = union_box(faces)
    core = core.padded(CORE_MARGIN * max(core.width, core.height))
    return Box(
        max(core.x0, head.x0), max(core.y0, head.y0), min(core.x1, head.x1), min(core.y1, head.y1)
    )


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


def signature_ink(image: RGBImage, label: Box, extent: Box, text: Sequence[Box]) -> list[Box]:
    """The boxes around the ink near a signature label that no text line explains (lines
    are kept or redacted on their own; a signature OCR read as a line is one of them):
    one around the ink above the label's rows, one around the ink beside the label on
    its rows, one around the ink below, so that no box spans the label itself (one box
    around ink above or beside and below would fill the label it was found by)."""
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
        return []
    size = max(3, int(3 * h) | 1)
    paper = cv2.medianBlur(grey, size)
    ink = (paper.astype(np.int16) - grey.astype(np.int16)) > INK_CONTRAST
    ink &= ~boxes_mask(ink.shape, [b.shifted(-window.x0, -window.y0) for b in [label, *text]])
    ys, xs = np.nonzero(ink)
    if len(xs) < INK_MIN_PIXELS:
        return []
    top, bottom = math.floor(label.y0 - window.y0), math.ceil(label.y1 - window.y0)
    boxes = []
    for part in (ys < top, (ys >= top) & (ys < bottom), ys >= bottom):
        if part.any():
            px, py = xs[part], ys[part]
            boxes.append(
                Box(
                    window.x0 + float(px.min()),
                    window.y0 + float(py.min()),
                    window.x0 + float(px.max() + 1),
                    window.y0 + float(py.max() + 1),
                )
            )
    return boxes


def codes_in(image: RGBImage, extent: Box) -> list[Box]:
    """Every decodable barcode and 2-D code inside the extent, whatever its content (a
    document's PDF417 holds the holder's data even where it reads like a product code),
    and those zxing-cpp finds but cannot decode, except the checksum-failed Data Matrix
    symbols it reports on guilloches and emblems (see :mod:`redactor.text.codes`):
    codes too small to decode are found by their structure (:func:`dense_patches`)."""
    region = Box(*(float(v) for v in extent.clipped(image.shape[1], image.shape[0]).to_int()))
    grey = _grey(image, region)
    if grey.shape[0] < 16 or grey.shape[1] < 16:
        return []
    boxes = [
        c.box
        for c in codes.read_codes(grey)
        if c.valid or c.symbology not in codes.UNTRUSTED_ERRORS
    ]
    return [b.shifted(region.x0, region.y0) for b in boxes if b.area > 0]


#: Dense patches (fingerprints, 2-D codes and other printed marks too dense for OCR) are
#: looked for on a copy whose document is this many pixels on its shorter side...
PATCH_SIDE = 200
#: ...smoothed over this share of that side (strokes and ridges become a grey mass)...
PATCH_SMOOTH = 0.015
#: ...darker than the paper (the lightest level within half that side) by this much, or
#: with this mean fine detail (see PATCH_MIN_DETAIL; codes' modules ~25, text ~16)...
PATCH_DARK = 50.0
PATCH_DENSE = 20.0
#: ...after an opening of this share of the side (lines, borders and text strokes go).
PATCH_OPENING = 0.05
#: A patch is this share of the document's shorter side high and wide at least...
PATCH_MIN = (0.12, 0.08)
#: ...and at most this share of its width and height (larger is the card itself).
PATCH_MAX = 0.85
#: It fills at least this share of its box, lies at most this share on text lines and
#: photo areas (they are redacted or kept on their own), and is not coloured: chips,
#: flags and coloured emblems have a mean HSV saturation above this.
PATCH_FILL = 0.6
PATCH_KNOWN = 0.2
PATCH_MAX_SATURATION = 90.0
#: Ridges and modules: the mean absolute fine detail (grey levels above a Gaussian of
#: one pixel, at the image's resolution) inside it is at least this; a flat block of
#: colour behind an official's signature is about 4, fingerprints 8-25, codes 15.
PATCH_MIN_DETAIL = 6.0


def dense_patches(image: RGBImage, extent: Box, known: Sequence[Box]) -> list[Box]:
    """Compact dark or densely detailed patches inside a document that no text line or
    photo explains: fingerprints, PDF417 and other codes that do not decode.

    Fail closed: a fingerprint is a patch of ridges (or, printed small, a grey oval), a
    stacked code a block of modules; seen at the scale of the document, each is a solid
    region darker than the paper or full of fine detail everywhere, unlike text,
    guilloches and borders, which the opening removes. A grey seal or hologram window
    passes too; it holds nothing personal, and is redacted rather than a print missed.
    """
    region = Box(*(float(v) for v in extent.clipped(image.shape[1], image.shape[0]).to_int()))
    x0, y0, x1, y1 = region.to_int()
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    shorter = min(crop.shape[:2])
    if shorter < 16:
        return []
    scale = PATCH_SIDE / shorter
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = (small.shape[1], small.shape[0])
    sigma = PATCH_SMOOTH * PATCH_SIDE
    smooth = cv2.GaussianBlur(
        cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), sigma
    )
    reach = int(PATCH_SIDE / 2) | 1
    paper = cv2.dilate(smooth, cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach)))
    full = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    fine = np.abs(full - cv2.GaussianBlur(full, (0, 0), 1.0))
    detail = cv2.resize(fine, size, interpolation=cv2.INTER_AREA)
    dense = cv2.GaussianBlur(detail, (0, 0), sigma) > PATCH_DENSE
    side = int(PATCH_OPENING * PATCH_SIDE) | 1
    opening = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    solids = [
        np.asarray(cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, opening), np.uint8)
        for mask in ((paper - smooth) > PATCH_DARK, dense)
    ]
    covered = boxes_mask(
        dense.shape, [box.shifted(-region.x0, -region.y0).times(scale) for box in known]
    )
    saturation = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1], np.uint8)
    found = []
    for solid in solids:
        for patch in _compact(solid, covered, saturation, detail):
            # grown by the opening's radius: it rounds the ends of an oval print off
            patch = patch.padded(side / 2).times(1 / scale).shifted(region.x0, region.y0)
            found.append(_cut_from(patch, known))
    return found


def _compact(
    solid: Grey, covered: npt.NDArray[np.bool_], saturation: Grey, detail: npt.NDArray[np.float32]
) -> list[Box]:
    """The components of ``solid`` that are patch-sized, compact, mostly not on text or
    photos, not coloured and detailed (see the PATCH_ constants)."""
    height, width = solid.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid)
    found = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if not (
            PATCH_MIN[0] * PATCH_SIDE <= h <= PATCH_MAX * height
            and PATCH_MIN[1] * PATCH_SIDE <= w <= PATCH_MAX * width
            and area >= PATCH_FILL * w * h
        ):
            continue
        mask = labels == i
        if (
            covered[mask].mean() > PATCH_KNOWN
            or saturation[mask].mean() > PATCH_MAX_SATURATION
            or detail[mask].mean() < PATCH_MIN_DETAIL
        ):
            continue
        found.append(Box(x, y, x + w, y + h))
    return found


def _cut_from(patch: Box, known: Sequence[Box]) -> Box:
    """``patch`` cut back from the text lines and photos it reaches into (smoothing
    spreads it by a few pixels; a label right above a code stays readable): each that
    is not wholly inside it is cut off on the side that keeps the most of the patch."""
    for box in known:
        inside = intersection(patch, box)
        if inside == 0 or inside >= 0.9 * box.area:
            continue
        cuts = [
            Box(patch.x0, max(patch.y0, box.y1), patch.x1, patch.y1),
            Box(patch.x0, patch.y0, patch.x1, min(patch.y1, box.y0)),
            Box(max(patch.x0, box.x1), patch.y0, patch.x1, patch.y1),
            Box(patch.x0, patch.y0, min(patch.x1, box.x0), patch.y1),
        ]
        patch = max(cuts, key=lambda c: max(0.0, c.width) * max(0.0, c.height))
    return patch

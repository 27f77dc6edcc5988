"""Where identity documents are in an image, from their MRZ and their field labels.

Two kinds of evidence, each giving an extent:

* **An MRZ.** ICAO 9303 fixes the page around it: the zone is centred and about 0.89
  of the document's width, at its bottom, and the document is about 0.63 (cards) or 0.70
  (passport pages, visas) as high as it is wide. The extent is that page, with a margin.
* **Field labels.** Lines whose labels are identity-document fields ("Surname", "Date of
  birth", "Nationality"...) are grouped by distance; a group with at least
  :data:`MIN_FIELD_KINDS` different fields (a document title counts as one) is a
  document. Product packaging ("Net weight", "Best before", "Made in") has no such
  labels, and forms rarely three of them. The extent grows from the group: labels take
  the right part of a card whose left part holds the portrait, so it grows by
  :data:`GROW_SIDEWAYS` of the group's width on both sides and :data:`GROW_VERTICAL` of
  its height up and down. Next to an MRZ page (a card's other side, stacked or side by
  side), two fields, a title or a state name are enough, and the extent takes the size
  of that page.
* **A card's other side.** A TD1 card has its MRZ on the back; a card-sized region
  right next to that side (above, below or beside it) holding a few lines of text is
  taken as the front, shown with it as uploads do.

A card or page edge around the evidence (a quadrilateral contour, found on a small copy,
only when there is evidence) bounds the extent from outside: a document photographed on
a table next to a product stops at its edge. Two groups of labels far apart (a card's
front and back side by side) are two documents.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from redactor.documents.fields import LineLabels
from redactor.documents.lexicon import DOCUMENT_KINDS, STATE, TITLE
from redactor.documents.mrz import LINE_LENGTHS, MrzZone
from redactor.findings import RGBImage
from redactor.geometry import Box, centre_within, clamp, intersection, union_box
from redactor.text.lines import TextLine

#: Page height over width, per MRZ format (ID-1 card 54/85.6; TD2 74/105; TD3 88/125;
#: MRV-A 80/120; MRV-B 80/108).
ASPECT = {"TD1": 0.631, "TD2": 0.705, "TD3": 0.704, "MRV-A": 0.667, "MRV-B": 0.741}
#: Document width over MRZ width (the zone's characters are 2.54 mm apart).
MRZ_TO_PAGE = {
    fmt: width / (LINE_LENGTHS[fmt] * 2.54)
    for fmt, width in {
        "TD1": 85.6,
        "TD2": 105.0,
        "TD3": 125.0,
        "MRV-A": 120.0,
        "MRV-B": 108.0,
    }.items()
}
#: Margin around a page placed from its MRZ, as a share of its width.
MRZ_MARGIN = 0.06
#: Different document field labels (or a title) that make a group of lines a document.
MIN_FIELD_KINDS = 3
#: Lines closer than this many line heights belong to one group of labels.
GROUP_GAP = 8.0
#: Growth of a label group into its document's extent, as shares of its size.
GROW_SIDEWAYS = 0.55
GROW_VERTICAL = 0.3
#: A card's other side, next to its MRZ side, must be this much inside the image and
#: hold this many text lines.
OTHER_SIDE_MIN_SHARE = 0.5
OTHER_SIDE_MIN_LINES = 3
#: A card edge is the other side's when its area is within these shares of the MRZ page's.
SIDE_EDGE_SIZE = (0.6, 1.5)
#: A contour counts as the document's edge when it holds this share of the evidence...
EDGE_HOLDS = 0.9
#: ...and is at least this share of the extent found without it (not a photo or a chip).
EDGE_MIN_SHARE = 0.35
#: Contours are looked for on a copy of at most this side.
EDGE_SIDE = 640


@dataclass(frozen=True, slots=True)
class Document:
    """One document: its extent, what showed it, and its MRZ zone if it has one."""

    box: Box
    evidence: str
    zone: MrzZone | None = None


def from_zone(zone: MrzZone) -> Box:
    """The page an MRZ zone belongs to, with a margin."""
    mrz = zone.box
    width = mrz.width * MRZ_TO_PAGE[zone.format]
    height = width * ASPECT[zone.format]
    margin = MRZ_MARGIN * width
    cx = mrz.center[0]
    bottom = mrz.y1 + (width - mrz.width) / 4
    return Box(
        cx - width / 2 - margin, bottom - height - margin, cx + width / 2 + margin, bottom + margin
    )


def label_groups(lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> list[list[int]]:
    """Groups of lines holding document field labels or titles, by distance."""
    members = [
        i
        for i, info in enumerate(labels)
        if info.field_kinds & DOCUMENT_KINDS or any(m.kind in (TITLE, STATE) for m in info.matches)
    ]
    parent = {i: i for i in members}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in members:
        for b in members:
            if a < b and _near(lines[a], lines[b]):
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in members:
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _near(a: TextLine, b: TextLine) -> bool:
    reach = GROUP_GAP * max(a.height, b.height)
    dx = max(0.0, max(a.box.x0, b.box.x0) - min(a.box.x1, b.box.x1))
    dy = max(0.0, max(a.box.y0, b.box.y0) - min(a.box.y1, b.box.y1))
    return dx <= reach and dy <= reach


def field_kinds(group: Sequence[int], labels: Sequence[LineLabels]) -> int:
    """Different document fields labelled in the group, plus one for a title and one for
    a state name."""
    kinds = {k for i in group for k in labels[i].field_kinds & DOCUMENT_KINDS}
    marks = {m.kind for i in group for m in labels[i].matches} & {TITLE, STATE}
    return len(kinds) + len(marks)


def from_labels(group: Sequence[int], lines: Sequence[TextLine]) -> Box:
    core = union_box([lines[i].box for i in group])
    height = statistics.median(lines[i].height for i in group)
    dx = GROW_SIDEWAYS * core.width + 2 * height
    dy = GROW_VERTICAL * core.height + 2 * height
    return Box(core.x0 - dx, core.y0 - dy, core.x1 + dx, core.y1 + dy)


def _other_side(core: Box, page: Box) -> bool:
    """Whether labels lie where a card's other side is shown: right above or below its
    MRZ page with the same width, or right beside it at the same height."""
    w, h = page.width, page.height
    above_below = min(core.x1, page.x1) - max(core.x0, page.x0) > 0.5 * core.width and (
        page.y0 - 1.3 * h <= core.y0 <= page.y1 + 0.3 * h
    )
    beside = min(core.y1, page.y1) - max(core.y0, page.y0) > 0.5 * core.height and (
        page.x0 - 1.3 * w <= core.x0 <= page.x1 + 0.3 * w
    )
    return above_below or beside


def _other_sides(
    page: Box,
    lines: Sequence[TextLine],
    labels: Sequence[LineLabels],
    found: Sequence[Document],
    width: int,
    height: int,
    edges: Sequence[Box] = (),
) -> list[Box]:
    """Card-sized regions right above, below or beside a card's MRZ side that hold text:
    the card's other side, shown with it (the side with the portrait and the name). A
    side beside it must also show a label, title or state name: products stand beside
    a card on a table, rarely above it. Where a card edge of about the page's size lies
    there, the side is that card (sides are shown with a gap between them)."""
    sides = []
    for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        side = page.shifted(dx * page.width, dy * page.height).clipped(width, height)
        side = _card_at(side, page, edges) or side
        if side.area < OTHER_SIDE_MIN_SHARE * page.area:
            continue
        if any(intersection(side, d.box) >= 0.5 * side.area for d in found):
            continue
        inside = [
            i
            for i, line in enumerate(lines)
            if centre_within(side, line.box) and not centre_within(page, line.box)
        ]
        labelled = any(labels[i].matches for i in inside)
        if len(inside) >= OTHER_SIDE_MIN_LINES and (dx == 0 or labelled):
            sides.append(side)
    return sides


def _card_at(side: Box, page: Box, edges: Sequence[Box]) -> Box | None:
    """The card edge that mostly covers ``side`` and is about ``page``'s size."""
    size = max(page.area, 1.0)
    cards = [
        e
        for e in edges
        if SIDE_EDGE_SIZE[0] <= e.area / size <= SIDE_EDGE_SIZE[1]
        and intersection(e, side) >= 0.5 * side.area
    ]
    return min(cards, key=lambda e: abs(math.log(max(e.area, 1.0) / size)), default=None)


def _beside(core: Box, page: Box) -> Box:
    """The other side of a card, the size of its MRZ page, on the side ``core`` lies."""
    cx, cy = core.center
    if page.y0 <= cy <= page.y1:
        dx = page.width if cx > page.center[0] else -page.width
        return page.shifted(dx, 0)
    dy = page.height if cy > page.center[1] else -page.height
    return page.shifted(0, dy)


def find_documents(
    image: RGBImage,
    lines: Sequence[TextLine],
    labels: Sequence[LineLabels],
    zones: Sequence[MrzZone],
) -> list[Document]:
    """Every document in the image, MRZ pages first, clipped to the image."""
    height, width = image.shape[:2]
    edges = _quadrilaterals(image) if zones else None
    # an MRZ page is cut to its card's edge first: its other side is placed from it
    found = [
        Document(
            _bounded(from_zone(z).clipped(width, height), z.box, edges or []),
            f"mrz:{z.format}",
            z,
        )
        for z in zones
    ]
    evidence = [z.box for z in zones]
    pages = list(found)
    for group in label_groups(lines, labels):
        core = union_box([lines[i].box for i in group])
        if any(intersection(core, d.box) >= 0.5 * core.area for d in found):
            continue
        kinds = field_kinds(group, labels)
        page = next((d.box for d in pages if _other_side(core, d.box)), None)
        if kinds >= MIN_FIELD_KINDS:
            extent = from_labels(group, lines)
        elif kinds >= MIN_FIELD_KINDS - 1 and page is not None:
            extent = union_box([from_labels(group, lines), _beside(core, page)])
        else:
            continue
        found.append(Document(extent.clipped(width, height), "labels"))
        evidence.append(core)
    for document in pages:
        if document.zone is not None and document.zone.format == "TD1":
            for side in _other_sides(
                document.box, lines, labels, found, width, height, edges or []
            ):
                found.append(Document(side, "other-side"))
                evidence.append(side)
    if not found:
        return []
    if edges is None:
        edges = _quadrilaterals(image)
    return [
        Document(_bounded(d.box, core, edges), d.evidence, d.zone)
        for d, core in zip(found, evidence, strict=True)
    ]


def _bounded(extent: Box, core: Box, edges: Sequence[Box]) -> Box:
    """``extent`` cut to the edge that holds ``core``, is not much smaller, and is
    nearest the extent in size."""
    fitting = [
        e
        for e in edges
        if intersection(e, core) >= EDGE_HOLDS * core.area
        and intersection(e, extent) >= EDGE_MIN_SHARE * extent.area
    ]
    if not fitting:
        return extent
    # the edge nearest the extent in size: the card, not a window printed on it (the
    # MRZ's frame holds the zone too) nor the table it lies on
    size = max(extent.area, 1.0)
    return clamp(extent, min(fitting, key=lambda e: abs(math.log(max(e.area, 1.0) / size))))


def _quadrilaterals(image: RGBImage) -> list[Box]:
    """Bounding boxes of large four-sided contours: card and page edges."""
    height, width = image.shape[:2]
    scale = min(1.0, EDGE_SIDE / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(np.asarray(small, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    edges = cv2.dilate(cv2.Canny(grey, 40, 120), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    min_area = 0.02 * grey.shape[0] * grey.shape[1]
    for contour in contours:
        if cv2.contourArea(contour) < min_area:
            continue
        approx = cv2.approxPolyDP(contour, 0.03 * cv2.arcLength(contour, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            x, y, w, h = cv2.boundingRect(approx)
            boxes.append(Box(x / scale, y / scale, (x + w) / scale, (y + h) / scale))
    return boxes

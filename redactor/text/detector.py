"""The text and code detectors: OCR or decode, decide what is personal, return findings.

Findings carry boxes, kinds, rules and (with a key) keyed hashes. The text itself never
leaves this module: not in findings, logs or exception messages.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from redactor.detail import DetailMap
from redactor.errors import ConfigError, DetectionError
from redactor.findings import TEXT, Finding, RGBImage
from redactor.geometry import Box, union_box
from redactor.options import PipelineOptions, TextPolicy
from redactor.pii import build_recognizers, find_pii
from redactor.pii.base import (
    ADDRESS,
    DOB,
    EMAIL,
    NAME,
    NATIONAL_ID,
    PHONE,
    PLATE,
    TRACKING,
    PiiMatch,
    Recognizer,
)
from redactor.pii.hashing import text_hash
from redactor.pii.names import is_cue_line, name_line_span
from redactor.pii.policy import Policy
from redactor.text import codes
from redactor.text.blocks import group_blocks, stacked
from redactor.text.lines import TextLine, build_lines
from redactor.text.ocr import EngineSettings, MalformedOcrOutput, OcrEngine, OcrLine, shared_engine

logger = logging.getLogger(__name__)

#: Longest image side OCR runs at. Larger images are shrunk for OCR (time grows with
#: pixels; text this small in a photo is rarely legible anyway) and boxes scaled back.
MAX_OCR_SIDE = 2400
#: Text is read only in the regions around the groups of detail (flat margins and
#: backdrops hold no text; see :mod:`redactor.detail`): detail closer than this (px, at
#: OCR resolution) is one region, and each region keeps half of it as a margin...
REGION_GAP = 48
#: ...and is at least this large a side (RapidOCR's detector needs 32 px after scaling)...
REGION_MIN_SIDE = 128
#: ...when the regions leave at least this share of the image out; else the box around
#: them all, or the whole image.
MIN_CROP_SAVING = 0.2
#: More regions than this are read as one box around them all (each call has a cost).
MAX_REGIONS = 8
#: Kinds that make a line count towards an address block.
BLOCK_KINDS = frozenset({NAME, ADDRESS, PHONE, EMAIL})
#: Kinds whose cue may sit on the line above the item (a form's column header).
CUED_KINDS = frozenset({PHONE, DOB, NATIONAL_ID, TRACKING, PLATE})
#: Blocks larger than this are documents, not labels: only their personal lines go.
MAX_BLOCK_LINES = 8


@dataclass(frozen=True, slots=True)
class _Hit:
    """A match on one reconstructed line."""

    line: int
    match: PiiMatch


def _check_image(image: RGBImage) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DetectionError("detectors need an H x W x 3 uint8 RGB image")


def _bounded(image: RGBImage, max_side: int) -> tuple[RGBImage, float]:
    """The image shrunk to ``max_side`` (if larger) and the factor back to full size."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small.astype(np.uint8), width / size[0]


def text_areas(image: RGBImage) -> list[Box]:
    """Where text can be, in integer pixels: the regions around the groups of detail
    when they leave enough of the image out, else the box around all detail when that
    does, else the whole image; nothing when the image is flat everywhere."""
    height, width = image.shape[:2]
    whole = Box(0, 0, width, height)
    if height < 2 or width < 2:
        return [whole]
    detail = DetailMap(image)
    regions = [_whole_pixels(r) for r in detail.regions(REGION_GAP, REGION_MIN_SIDE)]
    if not regions:
        return []
    small_enough = (1 - MIN_CROP_SAVING) * whole.area
    if len(regions) <= MAX_REGIONS and sum(r.area for r in regions) <= small_enough:
        return regions
    bounds = detail.bounds(margin=REGION_GAP / 2)
    if bounds is not None and _whole_pixels(bounds).area <= small_enough:
        return [_whole_pixels(bounds)]
    return [whole]


def _whole_pixels(box: Box) -> Box:
    return Box(*(float(v) for v in box.to_int()))


def _validated(raw: object, engine: str) -> list[OcrLine]:
    """The engine's lines, or :class:`DetectionError` if they are not what the protocol says."""
    if not isinstance(raw, Sequence) or not all(isinstance(line, OcrLine) for line in raw):
        raise DetectionError(f"OCR engine {engine!r} returned malformed output (not OCR lines)")
    for line in raw:
        boxes = [line.box, *(w.box for w in line.words)]
        scores = [line.confidence, *(w.confidence for w in line.words)]
        coords = [c for b in boxes for c in (b.x0, b.y0, b.x1, b.y1)]
        if not all(math.isfinite(c) for c in coords) or any(
            b.x1 < b.x0 or b.y1 < b.y0 for b in boxes
        ):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad box)")
        if not all(0.0 <= s <= 1.0 for s in scores):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad score)")
        if not all(isinstance(w.text, str) for w in line.words):
            raise DetectionError(f"OCR engine {engine!r} returned malformed output (bad text)")
    return list(raw)


def _lines_above(lines: Sequence[TextLine]) -> dict[int, int]:
    """For each line, the nearest line stacked right above it in the same column."""
    above: dict[int, int] = {}
    for i, lower in enumerate(lines):
        uppers = [j for j, upper in enumerate(lines) if j != i and stacked(upper, lower)]
        uppers = [j for j in uppers if lines[j].box.center[1] < lower.box.center[1]]
        if uppers:
            above[i] = max(uppers, key=lambda j: lines[j].box.y1)
    return above


def _runs(flags: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` index ranges of consecutive true flags."""
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            yield start, i
            start = None


class TextDetector:
    """Personal (or, under the ``all`` policy, any) text in an image.

    The engine is built by the caller and reused; the detector adds line
    reconstruction, the PII rules, the allow and deny lists and the block rule.
    """

    name = "text"

    def __init__(
        self,
        engine: OcrEngine,
        policy: TextPolicy,
        allow_terms: Iterable[str] = (),
        deny_terms: Iterable[str] = (),
        hash_key: bytes | None = None,
        *,
        recognizers: Sequence[Recognizer] | None = None,
        max_side: int = MAX_OCR_SIDE,
    ) -> None:
        if hash_key is not None and not hash_key:
            raise ConfigError("the text-hash key is empty; pass None or a long random secret")
        self._engine = engine
        self._policy = Policy.build(policy, allow_terms, deny_terms)
        self._recognizers = tuple(recognizers) if recognizers is not None else build_recognizers()
        self._cue_recognizers = [r for r in self._recognizers if r.kind in CUED_KINDS]
        self._hash_key = hash_key
        self._max_side = max_side
        self.model = engine.version

    def detect(self, image: RGBImage) -> list[Finding]:
        if self._policy.mode == "off":
            return []
        lines = build_lines(self._read(image))
        hits = self._everything(lines) if self._policy.mode == "all" else self._personal(lines)
        findings = [f for hit in _deduplicated(hits, lines) for f in self._findings(hit, lines)]
        logger.info("text: %d lines read, %d regions to redact", len(lines), len(findings))
        return findings

    def _read(self, image: RGBImage) -> list[OcrLine]:
        _check_image(image)
        small, factor = _bounded(image, self._max_side)
        frame = (small.shape[0], small.shape[1])
        lines = []
        for area in text_areas(small):
            x0, y0, x1, y1 = area.to_int()
            region = np.ascontiguousarray(small[y0:y1, x0:x1])
            read = self._read_region(region, frame)
            lines += [line.shifted(x0, y0) for line in read] if x0 or y0 else read
        return [line.scaled(factor) for line in lines] if factor != 1.0 else lines

    def _read_region(self, region: RGBImage, frame: tuple[int, int]) -> list[OcrLine]:
        engine = self._engine.name
        try:
            raw = self._engine.read(region, frame=frame)
        except MalformedOcrOutput:
            raise DetectionError(f"OCR engine {engine!r} returned malformed output") from None
        except Exception as exc:  # noqa: BLE001 - any engine failure must fail closed
            # The cause is dropped on purpose: an engine's message could quote the text.
            logger.error("OCR engine %s raised %s", engine, type(exc).__name__)
            raise DetectionError(f"OCR engine {engine!r} failed ({type(exc).__name__})") from None
        return _validated(raw, engine)

    def _everything(self, lines: Sequence[TextLine]) -> list[_Hit]:
        """Under ``all``: every line, as one match the allow list then cuts into runs."""
        return [
            _Hit(i, PiiMatch(0, len(line.text), TEXT, "policy-all")) for i, line in enumerate(lines)
        ]

    def _personal(self, lines: Sequence[TextLine]) -> list[_Hit]:
        above = _lines_above(lines)
        hits = [
            _Hit(i, match)
            for i, line in enumerate(lines)
            for match in (*self._policy.denied(line.text), *find_pii(line.text, self._recognizers))
        ]
        hits += self._cued_from_above(lines, above)
        hits += self._names_below_cues(lines, above)
        hits += self._address_blocks(lines, hits)
        return hits

    def _cued_from_above(self, lines: Sequence[TextLine], above: dict[int, int]) -> list[_Hit]:
        """Matches a cue on the line above enables: "Home Phone" over "414-2285"."""
        hits = []
        for lower, upper in above.items():
            cue = lines[upper].text + " "
            for m in find_pii(cue + lines[lower].text, self._cue_recognizers):
                if m.start >= len(cue):
                    span = (m.start - len(cue), m.end - len(cue))
                    hits.append(_Hit(lower, PiiMatch(*span, m.kind, f"{m.rule}-above")))
        return hits

    def _names_below_cues(self, lines: Sequence[TextLine], above: dict[int, int]) -> list[_Hit]:
        """A name alone on the line under "SHIP TO:" or "Hello, my name is"."""
        hits = []
        for lower, upper in above.items():
            span = name_line_span(lines[lower].text) if is_cue_line(lines[upper].text) else None
            if span is not None:
                hits.append(_Hit(lower, PiiMatch(*span, NAME, "cue-above")))
        return hits

    def _address_blocks(self, lines: Sequence[TextLine], hits: Sequence[_Hit]) -> list[_Hit]:
        """Every line of a label-sized block holding an address and another personal line."""
        personal = {h.line for h in hits if h.match.kind in BLOCK_KINDS}
        addressed = {h.line for h in hits if h.match.kind == ADDRESS}
        found = {h.line for h in hits}
        extra = []
        for block in group_blocks(lines):
            members = set(block)
            if len(block) > MAX_BLOCK_LINES or not addressed & members:
                continue
            if len(personal & members) >= 2:
                extra += [
                    _Hit(i, PiiMatch(0, len(lines[i].text), ADDRESS, "address-block"))
                    for i in block
                    if i not in found
                ]
        return extra

    def _findings(self, hit: _Hit, lines: Sequence[TextLine]) -> Iterator[Finding]:
        """One finding per run of words under the match that the allow list does not keep."""
        line = lines[hit.line]
        match = hit.match
        spans = line.spans
        under = [k for k, (s, e) in enumerate(spans) if s < match.end and match.start < e]
        kept = self._policy.kept_words(line.text, [spans[k] for k in under])
        for start, end in _runs([not k for k in kept]):
            words = [line.words[under[k]] for k in range(start, end)]
            yield Finding(
                kind=match.kind,
                box=union_box([w.box for w in words]),
                score=min(w.confidence for w in words),
                detector=self.name,
                model=self.model,
                text_hash=self._hash(line.text[match.start : match.end]),
                attributes={"rule": match.rule},
            )

    def _hash(self, text: str) -> str | None:
        return None if self._hash_key is None else text_hash(self._hash_key, text)


def _deduplicated(hits: Sequence[_Hit], lines: Sequence[TextLine]) -> list[_Hit]:
    """Drop hits whose words a hit of the same kind on the same line already covers."""

    def words(hit: _Hit) -> frozenset[int]:
        spans = lines[hit.line].spans
        return frozenset(k for k, (s, e) in enumerate(spans) if hit.match.overlaps(s, e))

    covered = [(h, words(h)) for h in hits]
    kept = []
    for i, (hit, ws) in enumerate(covered):
        dominated = any(
            (other.line, other.match.kind) == (hit.line, hit.match.kind)
            and ws <= ows
            and (ws < ows or j < i)
            for j, (other, ows) in enumerate(covered)
            if j != i
        )
        if not dominated:
            kept.append(hit)
    return kept


class CodeDetector:
    """Barcodes and QR codes whose content is personal, or that cannot be read."""

    name = "code"

    def __init__(self, hash_key: bytes | None = None) -> None:
        if hash_key is not None and not hash_key:
            raise ConfigError("the text-hash key is empty; pass None or a long random secret")
        self._hash_key = hash_key
        self._matrix_rules = build_recognizers(
            ["email", "phone", "iban", "card", "address", "tracking", "dob", "national_id"]
        )
        self._linear_rules = build_recognizers(["iban", "card", "tracking", "national_id"])
        self.model = f"zxing-cpp@{importlib.metadata.version('zxing-cpp')}"

    def detect(self, image: RGBImage) -> list[Finding]:
        _check_image(image)
        grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        try:
            decoded = codes.read_codes(grey)
            regions = [(b, codes.CODE_QR) for b in codes.qr_regions(grey)]
            regions += [(b, codes.CODE_BARCODE) for b in codes.barcode_regions(grey)]
        except Exception as exc:  # noqa: BLE001 - any reader failure must fail closed
            # The cause is dropped on purpose: its message could quote a code's content.
            logger.error("code reading raised %s", type(exc).__name__)
            raise DetectionError(f"code reader failed ({type(exc).__name__})") from None
        findings, known = self._decoded_findings(decoded)
        for box, kind in regions:
            if not codes.is_known(box, known):
                known.append(box)
                findings.append(self._finding(kind, box, 0.5, "undecodable", None))
        logger.info("codes: %d symbols, %d regions to redact", len(decoded), len(findings))
        return findings

    def _decoded_findings(
        self, decoded: Sequence[codes.DecodedCode]
    ) -> tuple[list[Finding], list[Box]]:
        findings: list[Finding] = []
        known: list[Box] = []
        for code in sorted(decoded, key=lambda c: not c.valid):
            if not code.valid and (
                code.symbology in codes.UNTRUSTED_ERRORS or codes.is_known(code.box, known)
            ):
                continue
            known.append(code.box)
            decision = codes.classify(code, self._matrix_rules, self._linear_rules)
            if decision is not None:
                score = 1.0 if code.valid else 0.5
                text = code.text if code.valid and code.text else None
                findings.append(self._finding(decision.kind, code.box, score, decision.rule, text))
        return findings, known

    def _finding(self, kind: str, box: Box, score: float, rule: str, text: str | None) -> Finding:
        digest = None
        if self._hash_key is not None and text is not None:
            digest = text_hash(self._hash_key, text)
        return Finding(
            kind=kind,
            box=box,
            score=score,
            detector=self.name,
            model=self.model,
            text_hash=digest,
            attributes={"rule": rule},
        )


def build_text_detector(
    options: PipelineOptions,
    hash_key: bytes | None = None,
    *,
    threads: int | None = None,
) -> TextDetector | None:
    """The text detector ``options`` ask for (``None`` if the policy is off).

    The engine is this process's shared one for ``options.ocr_engine``, built on first
    use; ``threads`` caps its CPU threads (default: the runtime's own choice).
    """
    if options.text == "off":
        return None
    return TextDetector(
        shared_engine(
            options.ocr_engine,
            EngineSettings(threads=threads, detection_side=options.ocr_detection_side),
        ),
        options.text,
        options.allow_terms,
        options.deny_terms,
        hash_key,
        recognizers=build_recognizers(),
    )


def build_code_detector(
    options: PipelineOptions, hash_key: bytes | None = None
) -> CodeDetector | None:
    """The code detector, or ``None`` when ``options.codes`` is off."""
    return CodeDetector(hash_key) if options.codes else None

"""The code detector: barcodes and QR codes whose content is personal, or that cannot be read.

Decoding and the personal-or-not decision live in :mod:`redactor.text.codes`; this is
the detector around them. A decoded code's content never leaves it: findings carry
its keyed hash (with a key), never the content.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Sequence

import cv2
import numpy as np

from redactor.errors import ConfigError, DetectionError
from redactor.findings import Finding, RGBImage
from redactor.geometry import Box
from redactor.image_context import ImageContext
from redactor.pii import build_recognizers
from redactor.pii.hashing import text_hash
from redactor.text import codes
from redactor.text.reading import check_image

logger = logging.getLogger(__name__)


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

    def detect(self, image: RGBImage, context: ImageContext | None = None) -> list[Finding]:
        """zxing-cpp reads the image at full resolution; the finders look at
        ``context``'s shrunk copy when the image is larger than they need
        (:data:`redactor.text.codes.FINDER_MAX_SIDE`)."""
        check_image(image)
        grey = _grey(image)
        try:
            decoded = codes.read_codes(grey)
            regions = _finder_regions(grey, ImageContext.of(image, context))
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


def _grey(image: RGBImage) -> codes.Grey:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _finder_regions(grey: codes.Grey, context: ImageContext) -> list[tuple[Box, str]]:
    """The QR and barcode finders' regions, in the image's coordinates."""
    height, width = grey.shape
    size = codes.finder_size(width, height)
    small = grey if size == (width, height) else _grey(context.resized(*size))
    sx, sy = width / size[0], height / size[1]
    regions = [(b.times(sx, sy), codes.CODE_QR) for b in codes.qr_regions(small)]
    regions += [(b.times(sx, sy), codes.CODE_BARCODE) for b in codes.barcode_regions(small)]
    return regions

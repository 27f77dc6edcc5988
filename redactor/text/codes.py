"""Barcodes and QR codes: find them, decode them, and decide which ones are personal.

Decoding uses zxing-cpp. A code is personal when its content is: contact schemes in 2D
codes (``mailto:``, ``tel:``, ``sms:``, vCard, MeCard, ``geo:``, Wi-Fi logins), URLs
with query parameters (they often carry customer or order IDs), GS1 ship-to postcodes
and parcel serials, or content any checksummed PII rule matches (a tracking number in
a Code 128, say). Retail product codes (EAN/UPC with a valid check digit) are kept.

Failing closed: a code-like region that cannot be decoded is redacted. What counts as
code-like, from what the libraries offer:

* zxing-cpp results with an error (``return_errors=True``, ``valid`` false), except Data
  Matrix: its L-shaped finder makes zxing report checksum-failed "Data Matrix" symbols
  on ordinary photos (8 of the 38 shared test images), while real damaged QR/1D codes
  come back with their own format;
* OpenCV's QR detector (finder patterns), for QR codes too damaged for zxing to report;
* OpenCV's 1D barcode detector, confirmed by a bar test (a stripe pattern whose columns
  are uniform and that has many light/dark transitions), because on its own it also
  fires on logos and lettering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np
import numpy.typing as npt
from stdnum import ean

from redactor.geometry import Box, overlap_of_smaller
from redactor.pii.base import TRACKING, Recognizer, word_set

CODE_QR = "code.qr"
CODE_BARCODE = "code.barcode"

Grey = npt.NDArray[np.uint8]

#: zxing-cpp symbologies drawn as 2D matrices; everything else is a linear code.
MATRIX_FORMATS = word_set(
    "QRCode QRCodeModel1 QRCodeModel2 MicroQRCode RMQRCode DataMatrix Aztec AztecCode "
    "AztecRune PDF417 CompactPDF417 MicroPDF417 MaxiCode"
)
#: Retail product codes, kept when their check digit is valid.
PRODUCT_FORMATS = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ITF14", "ISBN"})
#: Error results of these formats are not evidence of a real symbol (see module docstring).
UNTRUSTED_ERRORS = frozenset({"DataMatrix"})

_CONTACT_SCHEMES = re.compile(
    r"^\s*(?:mailto:|tel:|sms:|smsto:|mms:|mmsto:|facetime:|matmsg:|mecard:|begin:vcard|"
    r"begin:vcalendar|geo:|wifi:|bizcard:)",
    re.IGNORECASE,
)
#: GS1 application identifiers of parcel serials and ship-to postcodes, in HRI text.
_GS1_SHIPPING = re.compile(r"\((?:00|420|421)\)")

#: Bar test: column spread over row-profile spread, and light/dark transitions.
MAX_BAR_NOISE = 0.2
MIN_BAR_TRANSITIONS = 30
#: Undecoded 1D regions are grown by this share of their shorter side on every edge.
BAR_REGION_GROWTH = 0.25
#: The finders look at a copy at most this long on its longer side (zxing-cpp always
#: reads the image itself). At 4000x3000 they cost 90 ms at full size, 35 on the half
#: copy; neither finds a QR code below 3 px a module there, and every code the
#: full-size finders found that the half copy's miss (3 px modules), zxing-cpp reports
#: at full size (docs/benchmarks.md, "Codes at 12 MP").
FINDER_MAX_SIDE = 2000


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One symbol as zxing-cpp reported it."""

    symbology: str
    text: str
    valid: bool
    binary: bool
    box: Box

    @property
    def kind(self) -> str:
        return CODE_QR if self.symbology in MATRIX_FORMATS else CODE_BARCODE


@dataclass(frozen=True, slots=True)
class CodeDecision:
    """Why a code is redacted."""

    kind: str
    rule: str


def _to_code(raw: Any) -> DecodedCode:
    position = raw.position
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return DecodedCode(
        symbology=str(raw.format.name),
        text=str(raw.text),
        valid=bool(raw.valid),
        binary=str(raw.content_type).endswith("Binary"),
        box=Box.around((float(p.x), float(p.y)) for p in corners),
    )


def read_codes(grey: Grey) -> list[DecodedCode]:
    """Every symbol zxing-cpp finds, including ones that fail their checks."""
    import zxingcpp

    return [_to_code(r) for r in zxingcpp.read_barcodes(grey, return_errors=True)]


def _url_has_query(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme in ("http", "https") and "=" in parts.query


def _pii_rule(text: str, recognizers: Iterable[Recognizer]) -> str | None:
    for recognizer in recognizers:
        for match in recognizer.find(text):
            return "tracking" if match.kind == TRACKING else f"pii:{match.kind}"
    return None


def classify(
    code: DecodedCode,
    matrix_rules: Sequence[Recognizer],
    linear_rules: Sequence[Recognizer],
) -> CodeDecision | None:
    """Why ``code`` must be redacted, or ``None`` to keep it.

    ``matrix_rules`` check the content of 2D codes, ``linear_rules`` (checksummed ones
    only, since 1D content is mostly bare numbers) that of other linear codes.
    """
    if not code.valid:
        return CodeDecision(code.kind, "undecodable")
    if code.symbology in PRODUCT_FORMATS:
        number = re.sub(r"\D", "", code.text)
        return None if ean.is_valid(number) else CodeDecision(code.kind, "bad-check-digit")
    if code.binary:
        return CodeDecision(code.kind, "binary")
    if _GS1_SHIPPING.search(code.text):
        return CodeDecision(code.kind, "gs1-shipping")
    if code.kind == CODE_QR:
        if _CONTACT_SCHEMES.match(code.text):
            return CodeDecision(code.kind, "contact")
        if _url_has_query(code.text):
            return CodeDecision(code.kind, "url-query")
    rule = _pii_rule(code.text, matrix_rules if code.kind == CODE_QR else linear_rules)
    return None if rule is None else CodeDecision(code.kind, rule)


def finder_size(width: int, height: int) -> tuple[int, int]:
    """The size of the copy the finders look at: the image's own up to
    :data:`FINDER_MAX_SIDE` on its longer side, else shrunk to that."""
    longer = max(width, height)
    if longer <= FINDER_MAX_SIDE:
        return width, height
    factor = FINDER_MAX_SIDE / longer
    return max(1, round(width * factor)), max(1, round(height * factor))


def qr_regions(grey: Grey) -> list[Box]:
    """QR-like regions by their finder patterns (decoded or not).

    OpenCV's ArUco-based finder: on the benchmark's 1600x1200 scenes it takes 20-30 ms
    where the classic ``QRCodeDetector`` took 33 ms to 1.4 s (it pairs every candidate
    finder pattern). It finds QR codes at one pixel a module on flat generated images,
    which the classic one misses, but on a photographed card nothing below about three
    pixels a module (docs/benchmarks.md, "Codes at 12 MP"): the small ones are zxing-cpp's
    to find, which is why it always reads the full-size frame.
    """
    found, points = cv2.QRCodeDetectorAruco().detectMulti(grey)
    if not found or points is None:
        return []
    return [Box.around((float(x), float(y)) for x, y in quad) for quad in points]


def bar_like(grey: Grey, quad: npt.NDArray[np.float32]) -> bool:
    """Whether the region holds parallel bars: uniform columns, many transitions."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(quad)
    width, height = round(w), round(h)
    if width < 8 or height < 8:
        return False
    corners = cv2.boxPoints(((cx, cy), (w, h), angle)).astype(np.float32)
    target = np.array(
        [[0, height - 1], [0, 0], [width - 1, 0], [width - 1, height - 1]], np.float32
    )
    patch = cv2.warpPerspective(grey, cv2.getPerspectiveTransform(corners, target), (width, height))
    return any(
        _bars_along_columns(p) for p in (patch.astype(np.float32), patch.T.astype(np.float32))
    )


def _bars_along_columns(patch: npt.NDArray[np.float32]) -> bool:
    profile = patch.mean(axis=0)
    contrast = float(profile.std())
    if contrast < 1.0:
        return False
    noise = float(patch.std(axis=0).mean()) / contrast
    dark = profile < profile.mean()
    transitions = int(np.count_nonzero(dark[1:] != dark[:-1]))
    return noise <= MAX_BAR_NOISE and transitions >= MIN_BAR_TRANSITIONS


def barcode_regions(grey: Grey) -> list[Box]:
    """1D-barcode-like regions that pass the bar test (decoded or not)."""
    found, points = cv2.barcode.BarcodeDetector().detect(grey)
    if not found or points is None:
        return []
    boxes = [
        Box.around((float(x), float(y)) for x, y in quad)
        for quad in points
        if bar_like(grey, np.asarray(quad, np.float32))
    ]
    # OpenCV's box stops short of the bars' ends, and a 1D code still scans from any
    # strip across it: grow the box so the whole bar height goes.
    return [b.padded(BAR_REGION_GROWTH * min(b.width, b.height)) for b in boxes]


def is_known(box: Box, known: Iterable[Box], threshold: float = 0.3) -> bool:
    return any(overlap_of_smaller(box, other) > threshold for other in known)

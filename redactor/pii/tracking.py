"""Parcel tracking numbers, by carrier format and check digit.

UPS "1Z..." (mod 10 over letters and digits), USPS IMpb and other 20-22 digit GS1
numbers (mod 10), UPU S10 ("RR123456785GB", Royal Mail and most posts; mod 11), and
DHL prefixes. FedEx (12 or 15 digits) and DHL Express (10 digits) numbers look like any
other number, so they need a cue on the line ("FedEx", "Tracking", "AWB"). After a
tracking cue any long code with enough digits counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum import ean

from redactor.pii.base import TRACKING, PiiMatch, compact, digits_of, ocr_digits

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_FEDEX_WEIGHTS = (1, 3, 7)


def ups_valid(number: str) -> bool:
    """UPS 1Z: digits and letters (mapped to digits) weighted 1, 2 alternately, mod 10."""
    body, check = number[2:-1], number[-1]
    total = 0
    for i, c in enumerate(body):
        value = int(c) if c.isdigit() else (ord(c) - 3) % 10
        total += value * (2 if i % 2 else 1)
    return check.isdigit() and (10 - total % 10) % 10 == int(check)


def s10_valid(number: str) -> bool:
    """UPU S10: two letters, eight digits, a mod-11 check digit, a country code."""
    digits, check = number[2:10], int(number[10])
    remainder = 11 - sum(int(d) * w for d, w in zip(digits, _S10_WEIGHTS, strict=True)) % 11
    expected = {10: 0, 11: 5}.get(remainder, remainder)
    return expected == check


def gs1_valid(number: str) -> bool:
    """GS1 mod 10 (USPS IMpb and other all-digit carrier numbers)."""
    return ean.calc_check_digit(number[:-1]) == number[-1]


def fedex12_valid(number: str) -> bool:
    """FedEx Express 12 digits: weights 1, 3, 7 from the right, mod 11, mod 10."""
    body = number[:-1][::-1]
    total = sum(int(d) * _FEDEX_WEIGHTS[i % 3] for i, d in enumerate(body))
    return total % 11 % 10 == int(number[-1])


def dhl10_valid(number: str) -> bool:
    """DHL Express waybill: the first nine digits mod 7."""
    return int(number[:-1]) % 7 == int(number[-1])


def _any(_: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class _Format:
    pattern: re.Pattern[str]
    valid: Callable[[str], bool]
    rule: str
    #: Whether a carrier or tracking cue must be on the line.
    needs_cue: bool = False


_FORMATS = (
    _Format(re.compile(r"(?<![A-Z0-9])1Z ?(?:[A-Z0-9] ?){15}\d(?![A-Z0-9])"), ups_valid, "ups"),
    _Format(
        re.compile(r"(?<![A-Z0-9])[A-Z]{2} ?\d{3} ?\d{3} ?\d{3} ?[A-Z]{2}(?![A-Z0-9])"),
        s10_valid,
        "s10",
    ),
    _Format(re.compile(r"(?<!\d)9[1-5](?: ?\d){18,24}(?!\d)"), gs1_valid, "usps"),
    _Format(re.compile(r"(?<!\d)\d(?: ?\d){19,21}(?!\d)"), gs1_valid, "gs1-long"),
    _Format(re.compile(r"(?<![A-Z0-9])(?:JJD|JVGL|GM)\d{10,20}(?!\d)"), _any, "dhl"),
    _Format(re.compile(r"(?<!\d)\d{4} ?\d{4} ?\d{4}(?!\d)"), fedex12_valid, "fedex", True),
    _Format(re.compile(r"(?<!\d)\d{15}(?!\d)"), _any, "fedex", True),
    _Format(re.compile(r"(?<!\d)\d{10}(?!\d)"), dhl10_valid, "dhl", True),
)

_CARRIER_CUE = re.compile(
    r"(?i:fedex|dhl|ups|usps|tracking|track|trk|waybill|awb|sendung|zending|suivi|colis|parcel)"
)
_TRACKING_CUE = re.compile(
    r"(?i:tracking(?:\s*(?:no\.?|number|#|id))?|trk\s*#?|track\s*&\s*trace|sendungsnummer|"
    r"zendingnummer|num[ée]ro\s+de\s+suivi|waybill|awb)\s*[:#]?\s*"
    r"(?P<code>[A-Z0-9](?:[ \-]?[A-Z0-9]){9,34})"
)


class TrackingRecognizer:
    kind = TRACKING

    def find(self, text: str) -> Iterator[PiiMatch]:
        clean = ocr_digits(text)
        cued = _CARRIER_CUE.search(clean) is not None
        for fmt in _FORMATS:
            if fmt.needs_cue and not cued:
                continue
            for m in fmt.pattern.finditer(clean):
                if fmt.valid(compact(m.group())):
                    yield PiiMatch(m.start(), m.end(), self.kind, fmt.rule)
        for m in _TRACKING_CUE.finditer(clean):
            if len(digits_of(m.group("code"))) >= 6:
                yield PiiMatch(m.start("code"), m.end("code"), self.kind, "cue")

"""Phone numbers, by Google's libphonenumber rules for several regions.

A number must be valid for some region and carry at least nine digits, so prices,
dates, sizes and short codes do not match. After a cue such as "Tel:" a possible
(not necessarily valid) number of seven or more digits is enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from redactor.pii.base import PHONE, PiiMatch, digits_of, ocr_digits

#: Regions whose national formats are tried; numbers written with "+" parse in any.
REGIONS = ("US", "GB", "DE", "NL", "FR", "CZ", "AT", "CH", "BE", "IE")
MIN_DIGITS = 9
MIN_DIGITS_AFTER_CUE = 7

_CUE = re.compile(
    r"(?<!\w)(?:tel(?:ephone|efon|\.)?|t[ée]l|phone|ph|mob(?:ile)?|cell|fax|gsm|handy|"
    r"call|contact|[TMFP](?=\s?:))(?!\w)",
    re.IGNORECASE,
)
_DATE = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}")


def _matches(text: str, leniency: int) -> Iterator[tuple[int, int]]:
    for region in REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            yield m.start, m.end


class PhoneRecognizer:
    kind = PHONE

    def find(self, text: str) -> Iterator[PiiMatch]:
        clean = ocr_digits(text)
        cued = _CUE.search(clean) is not None
        needed = MIN_DIGITS_AFTER_CUE if cued else MIN_DIGITS
        if len(digits_of(clean)) < needed:
            # Every match is a part of the text and must carry ``needed`` digits: a text
            # with fewer cannot hold one (most OCR lines: libphonenumber's matcher, run
            # for each region, was most of the text rules' time).
            return
        found = (
            dict.fromkeys(_matches(clean, phonenumbers.Leniency.POSSIBLE), "cue") if cued else {}
        )
        found.update(dict.fromkeys(_matches(clean, phonenumbers.Leniency.VALID), "valid"))
        for (start, end), rule in sorted(found.items()):
            raw = clean[start:end]
            if len(digits_of(raw)) >= needed and not _DATE.fullmatch(raw):
                yield PiiMatch(start, end, self.kind, rule)

"""National identity numbers that carry a check digit (validated with python-stdnum).

US SSNs in their dashed 3-2-4 layout stand on their own; bare nine-digit runs, Dutch
BSNs, German tax IDs and UK NHS numbers need a cue on the line, since their checksums
alone pass for about one number in ten. Czech birth numbers (with the slash) and French
NIRs (mod 97) are distinctive enough to stand alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum.cz import rc
from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.nl import bsn
from stdnum.us import ssn

from redactor.pii.base import NATIONAL_ID, PiiMatch, compact, ocr_digits

_SSN_CUE = r"ssn|ss\s?#|soc(?:ial)?\.?\s+sec(?:urity)?\.?(?:\s+(?:no\.?|number|#))?"
_BSN_CUE = r"bsn|burgerservicenummer|sofi-?nummer"
_IDNR_CUE = r"steuer-?id(?:nr)?|idnr|identifikationsnummer|steueridentifikationsnummer|tin"
_NHS_CUE = r"nhs(?:\s+(?:no\.?|number))?"
_NIR_CUE = r"nir|insee|s[ée]curit[ée]\s+sociale|n°\s?ss"


@dataclass(frozen=True, slots=True)
class _Format:
    pattern: re.Pattern[str]
    valid: Callable[[str], bool]
    rule: str


def _cued(cue: str, number: str) -> re.Pattern[str]:
    """``number`` (as group ``id``) right after ``cue`` and an optional colon."""
    return re.compile(rf"(?<!\w)(?i:{cue})\s*[:#]?\s*(?P<id>{number})(?![\d\w])")


_FORMATS = (
    _Format(re.compile(r"(?<![\d\-])(?P<id>\d{3}-\d{2}-\d{4})(?![\d\-])"), ssn.is_valid, "ssn"),
    _Format(_cued(_SSN_CUE, r"\d{3}[ \-]?\d{2}[ \-]?\d{4}"), ssn.is_valid, "ssn"),
    _Format(_cued(_BSN_CUE, r"\d{4}\.?\d{2}\.?\d{3}|\d{9}"), bsn.is_valid, "bsn"),
    _Format(_cued(_IDNR_CUE, r"\d{2} ?\d{3} ?\d{3} ?\d{3}"), idnr.is_valid, "de-idnr"),
    _Format(_cued(_NHS_CUE, r"\d{3} ?\d{3} ?\d{4}"), nhs.is_valid, "nhs"),
    _Format(_cued(_NIR_CUE, r"[12](?: ?\d){12} ?\d{2}"), nir.is_valid, "nir"),
    _Format(
        re.compile(
            r"(?<!\w)(?P<id>[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2})(?!\d)"
        ),
        nir.is_valid,
        "nir",
    ),
    _Format(re.compile(r"(?<![\d/])(?P<id>\d{6}/\d{3,4})(?![\d/])"), rc.is_valid, "cz-rc"),
)


class NationalIdRecognizer:
    kind = NATIONAL_ID

    def find(self, text: str) -> Iterator[PiiMatch]:
        clean = ocr_digits(text)
        for fmt in _FORMATS:
            for m in fmt.pattern.finditer(clean):
                if fmt.valid(compact(m.group("id"))):
                    yield PiiMatch(m.start("id"), m.end("id"), self.kind, fmt.rule)

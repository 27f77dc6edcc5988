"""Dates of birth: a date after a cue ("DOB", "Date of birth", "born", "geb.").

Dates alone are everywhere (best-before, receipts), so only the cue makes one personal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redactor.pii.base import DOB, PiiMatch

_MONTH = (
    r"(?:jan|feb|m[aä]r|apr|ma[iy]|mei|jun|jul|aug|sep|o[ck]t|nov|de[cz]|janv|f[ée]v|avr|"
    r"juin|juil|ao[uû]t|d[ée]c)[a-zé]*\.?"
)
_DATE = (
    r"(?:\d{1,2}\s?[./\-]\s?\d{1,2}\s?[./\-]\s?\d{2,4}|\d{4}-\d{1,2}-\d{1,2}|"
    rf"\d{{1,2}}\.?\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})"
)
_CUE = (
    r"d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?|"
    r"geb(?:\.|oren(?:\s+am)?|urtsdatum)|geboortedatum|geboren(?:\s+op)?|"
    r"n[ée]e?\s+le|date\s+de\s+naissance|datum\s+narozen[íi]|narozen[aá]?|nar\."
)
_DOB = re.compile(
    rf"(?<!\w)(?:{_CUE})\s*(?:\([^)]*\))?\s*[:\-]?\s*(?P<date>{_DATE})(?!\d)", re.IGNORECASE
)


class DobRecognizer:
    kind = DOB

    def find(self, text: str) -> Iterator[PiiMatch]:
        for m in _DOB.finditer(text):
            yield PiiMatch(m.start("date"), m.end("date"), self.kind, "cue")

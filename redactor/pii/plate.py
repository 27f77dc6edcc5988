"""Vehicle licence plates in common EU, UK and US formats.

Plate shapes are short letter/digit groups, like many SKUs and model numbers. So a
plate must be laid out like a plate (the format's own separators) and stand alone on
its line (a plate is read as a line of its own, at most behind a country code such as
"D" or "NL"), or follow a cue such as "Reg." or "Kennzeichen".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redactor.pii.base import PLATE, PiiMatch, upper_same_length

_D = r"[\-–·• ]"  # separators used on plates
_FORMATS = (
    ("uk", r"[A-Z]{2} ?\d{2} ?[A-Z]{3}"),
    ("de", rf"[A-ZÄÖÜ]{{1,3}}{_D}[A-Z]{{1,2}} ?\d{{1,4}}[EH]?"),
    (
        "nl",
        r"(?:\d{2}-[A-Z]{2,3}-\d{1,2}|[A-Z]{2}-\d{2,3}-[A-Z]{1,2}|\d-[A-Z]{3}-\d{2}|"
        r"[A-Z]-\d{3}-[A-Z]{2}|[A-Z]{2}-\d{2}-[A-Z]{2}|\d{2}-[A-Z]{2}-\d{2}|[A-Z]{3}-\d{2}-[A-Z])",
    ),
    ("fr", rf"[A-Z]{{2}}{_D}\d{{3}}{_D}[A-Z]{{2}}"),
    ("cz", r"\d[A-Z][A-Z0-9] ?\d{4}"),
    (
        "us",
        rf"(?:[A-Z]{{3}}{_D}\d{{3,4}}|[A-Z]{{2}}{_D}\d{{5}}|\d{{3}}{_D}[A-Z]{{3}}|"
        rf"\d[A-Z]{{3}}\d{{3}}|[A-Z]{{3}}{_D}[A-Z]\d{{2}})",
    ),
)
_PLATE = re.compile(
    r"(?<![A-Z0-9\-])(?:"
    + "|".join(f"(?P<{name}>{p})" for name, p in _FORMATS)
    + r")(?![A-Z0-9\-])"
)
#: Country codes of the blue EU band (and GB/UK), read as a word before the plate.
_COUNTRY = re.compile(r"^\W*(?:(?:D|NL|F|B|A|CZ|GB|UK|PL|I|E|L|DK|S|CH|IRL|P|SK)\s+)?$")
_CUE = re.compile(
    r"(?i:licen[cs]e\s+plate|plate(?:\s+no\.?)?|reg(?:istration)?\.?(?:\s+no\.?)?|vrn|"
    r"kennzeichen|kenteken|immatriculation|SPZ)\s*[:#]?\s*$"
)


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Only a country code (or punctuation) before the plate, only punctuation after."""
    return _COUNTRY.match(text[:start]) is not None and not any(c.isalnum() for c in text[end:])


class PlateRecognizer:
    kind = PLATE

    def find(self, text: str) -> Iterator[PiiMatch]:
        upper = upper_same_length(text)
        for m in _PLATE.finditer(upper):
            if _stands_alone(upper, m.start(), m.end()):
                yield PiiMatch(m.start(), m.end(), self.kind, "standalone")
            elif _CUE.search(upper[: m.start()]):
                yield PiiMatch(m.start(), m.end(), self.kind, "cue")

"""IBANs: country code, check digits and account, accepted only when mod-97 holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban

from redactor.pii.base import IBAN, PiiMatch, upper_same_length

#: A country code, two check digits, then 11 to 30 letters or digits in groups.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}")


def _longest_valid(candidate: str) -> int | None:
    """Length of the longest prefix of ``candidate`` that is a valid IBAN."""
    for end in range(len(candidate), 14, -1):
        if candidate[end - 1] != " " and iban.is_valid(candidate[:end]):
            return end
    return None


class IbanRecognizer:
    kind = IBAN

    def find(self, text: str) -> Iterator[PiiMatch]:
        for m in _CANDIDATE.finditer(upper_same_length(text)):
            length = _longest_valid(m.group())
            if length is not None:
                yield PiiMatch(m.start(), m.start() + length, self.kind, "mod97")

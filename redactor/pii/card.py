"""Payment card numbers: full numbers that pass Luhn, and masked ones ("**** 1234").

A printed card number is grouped in fours (or 4-6-5 / 4-6-4) or runs unbroken; an
unbroken 13- or 14-digit run that is a valid EAN-13 / GTIN-14 is a product code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import ean, luhn

from redactor.pii.base import CARD, PiiMatch, digits_of, ocr_digits

_NUMBER = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_MASKED = re.compile(
    r"(?<![\w*•])(?:[*xX•#]{2,}[ \-]?){1,4}"
    r"(?:(?:visa|mc|mastercard|amex|discover|maestro|debit|credit)\s)?"
    r"\d{4}(?!\d)",
    re.IGNORECASE,
)
_CARD_GROUPS = {(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2)}
#: Issuer prefixes in use: Visa, Mastercard (incl. 2-series), Amex, Diners, Discover, JCB,
#: Maestro, UnionPay.
_ISSUER = re.compile(r"4|5[0-9]|2[2-7]|3[04-9]|6")


def _plausible_layout(raw: str, number: str) -> bool:
    groups = tuple(len(g) for g in re.split(r"[ \-]", raw))
    if len(groups) > 1:
        return groups in _CARD_GROUPS
    return not (len(number) in (13, 14) and ean.is_valid(number))


def _is_card(raw: str) -> bool:
    number = digits_of(raw)
    return (
        13 <= len(number) <= 19
        and _ISSUER.match(number) is not None
        and luhn.is_valid(number)
        and _plausible_layout(raw, number)
    )


class CardRecognizer:
    kind = CARD

    def find(self, text: str) -> Iterator[PiiMatch]:
        for m in _NUMBER.finditer(ocr_digits(text)):
            if _is_card(m.group()):
                yield PiiMatch(m.start(), m.end(), self.kind, "luhn")
        for m in _MASKED.finditer(text):
            if sum(c in "*xX•#" for c in m.group()) >= 4:
                yield PiiMatch(m.start(), m.end(), self.kind, "masked")

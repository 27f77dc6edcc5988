"""What every recognizer shares: the match record, the protocol, the kinds, text helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

EMAIL = "pii.email"
PHONE = "pii.phone"
IBAN = "pii.iban"
CARD = "pii.card"
ADDRESS = "pii.address"
NAME = "pii.name"
TRACKING = "pii.tracking"
PLATE = "pii.plate"
DOB = "pii.dob"
NATIONAL_ID = "pii.national_id"
#: A line of a machine-readable zone (passports, identity cards, visas).
MRZ = "pii.mrz"
#: Anything inside an identity document that is not a label, title or state name.
DOCUMENT_FIELD = "pii.document_field"
#: A term from the deny list (always redacted, whatever it is).
DENIED = "pii.denied"


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """Personal text at ``text[start:end]``; ``rule`` says which check found it."""

    start: int
    end: int
    kind: str
    rule: str

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


class Recognizer(Protocol):
    """Finds one kind of personal text in one reconstructed line of OCR text."""

    kind: str

    def find(self, text: str) -> Iterator[PiiMatch]: ...


_TOKEN = re.compile(r"\S+")
#: Letters OCR reads in place of digits inside numbers; each maps to one character.
_DIGIT_LOOKALIKES = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"}


def _fix_lookalikes(token: str) -> str:
    """Replace look-alikes that touch a digit and no other letter ("4O4", not "OJ86")."""
    chars = list(token)
    for i, c in enumerate(token):
        if c not in _DIGIT_LOOKALIKES:
            continue
        neighbours = token[max(i - 1, 0) : i] + token[i + 1 : i + 2]
        touches_digit = any(n.isdigit() for n in neighbours)
        touches_letter = any(n.isalpha() and n not in _DIGIT_LOOKALIKES for n in neighbours)
        if touches_digit and not touches_letter:
            chars[i] = _DIGIT_LOOKALIKES[c]
    return "".join(chars)


def ocr_digits(text: str) -> str:
    """``text`` with digit look-alikes fixed inside mostly-numeric tokens.

    The result has the same length, so spans found in it are spans of ``text``.
    """

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        digits = sum(c.isdigit() for c in token)
        letters = sum(c.isalpha() for c in token)
        return _fix_lookalikes(token) if digits >= 2 and digits > letters else token

    return _TOKEN.sub(fix, text)


def word_set(words: str) -> frozenset[str]:
    """Whitespace-separated words as a set: keeps long word lists readable in the source."""
    return frozenset(words.split())


def upper_same_length(text: str) -> str:
    """``text`` in capitals, leaving alone letters whose capital is longer (so spans hold)."""
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def compact(text: str) -> str:
    """``text`` without spaces, dashes and dots (how check-digit validators want numbers)."""
    return re.sub(r"[\s.\-/]", "", text)


def is_whole_line(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is all the line holds, apart from punctuation."""
    rest = text[:start] + text[end:]
    return not any(c.isalnum() for c in rest)

"""Personal-text rules: one small recognizer per kind, and the registry that builds them.

Recognizers see one reconstructed line of text at a time and return character spans;
they never know which OCR engine read the text or where it sits in the image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from redactor.errors import ConfigError
from redactor.pii.address import AddressRecognizer
from redactor.pii.base import PiiMatch, Recognizer
from redactor.pii.card import CardRecognizer
from redactor.pii.dob import DobRecognizer
from redactor.pii.email import EmailRecognizer
from redactor.pii.iban import IbanRecognizer
from redactor.pii.name_lists import load_name_lists
from redactor.pii.names import NameRecognizer
from redactor.pii.national_id import NationalIdRecognizer
from redactor.pii.phone import PhoneRecognizer
from redactor.pii.plate import PlateRecognizer
from redactor.pii.tracking import TrackingRecognizer

RecognizerFactory = Callable[[], Recognizer]

#: Recognizer factories by short name.
RECOGNIZERS: Mapping[str, RecognizerFactory] = {
    "email": EmailRecognizer,
    "phone": PhoneRecognizer,
    "iban": IbanRecognizer,
    "card": CardRecognizer,
    "address": AddressRecognizer,
    "name": lambda: NameRecognizer(load_name_lists()),
    "tracking": TrackingRecognizer,
    "plate": PlateRecognizer,
    "dob": DobRecognizer,
    "national_id": NationalIdRecognizer,
}


def build_recognizers(names: Iterable[str] | None = None) -> tuple[Recognizer, ...]:
    """The recognizers called ``names`` (default: all), built once for reuse."""
    chosen = list(RECOGNIZERS) if names is None else list(names)
    unknown = [n for n in chosen if n not in RECOGNIZERS]
    if unknown:
        known = ", ".join(RECOGNIZERS)
        raise ConfigError(f"unknown PII recognizer(s) {', '.join(unknown)}; known: {known}")
    return tuple(RECOGNIZERS[n]() for n in chosen)


def find_pii(text: str, recognizers: Sequence[Recognizer]) -> Iterator[PiiMatch]:
    """Every match of every recognizer on one line of text."""
    for recognizer in recognizers:
        yield from recognizer.find(text)


__all__ = ["RECOGNIZERS", "PiiMatch", "Recognizer", "build_recognizers", "find_pii"]

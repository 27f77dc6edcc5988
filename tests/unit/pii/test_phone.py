from __future__ import annotations

import pytest

from redactor.pii.phone import PhoneRecognizer
from tests.unit.pii.support import found

POSITIVES = [
    ("Telephone: (702) 486-1404", "(702) 486-1404"),  # US
    ("Tel: 020 7946 0958", "020 7946 0958"),  # GB
    ("+49 30 901820", "+49 30 901820"),  # DE international
    ("Mobiel 06-12345678", "06-12345678"),  # NL
    ("+420 601 123 456", "+420 601 123 456"),  # CZ
    ("01 42 68 53 00", "01 42 68 53 00"),  # FR
    ("030 901820", "030 901820"),  # DE national
    # OCR read O for 0 inside the number.
    ("(7O2) 486-14O4", "(7O2) 486-14O4"),
    # A cue allows a number that is only possible (unassigned) or short.
    ("Tel: (555) 123-4567", "(555) 123-4567"),
    ("Phone 414-2285", "414-2285"),
]

NEGATIVES = [
    "$1,299.99",
    "€ 12,50",
    "BEST BEFORE 12/2027",
    "EXP 2026-05-01",
    "12 x 330 ml",
    "500 ml",
    "4006381333931",  # an EAN-13 product code
    "XR-2000",
    "ABC-12345",
    "ST# 1477 OP# 19280104",
    "TC #2034 2049 1021 1007 5519",
    "414-2285",  # seven digits without a cue: could be anything
    "(555) 123-4567",  # fictional number, no cue
    "Batch 20240501 12345",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_given_a_phone_number_then_it_is_found(text: str, expected: str) -> None:
    assert expected in found(PhoneRecognizer(), text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_prices_dates_and_codes_then_no_phone_is_found(text: str) -> None:
    assert found(PhoneRecognizer(), text) == []


@pytest.mark.parametrize("text", ["Tel: 12 34 56", "Order 12345678", "JOHN SMITH"])
def test_given_too_few_digits_for_any_number_then_libphonenumber_is_not_run(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Most OCR lines hold no phone number; the matcher, run for every region, was most of
    # the text rules' time.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the matcher ran on a text that cannot hold a phone number")

    monkeypatch.setattr("redactor.pii.phone.phonenumbers.PhoneNumberMatcher", refuse)
    assert found(PhoneRecognizer(), text) == []

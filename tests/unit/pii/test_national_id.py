from __future__ import annotations

import pytest

from redactor.pii.national_id import NationalIdRecognizer
from tests.unit.pii.support import found, rules

POSITIVES = [
    ("111-22-2333", "111-22-2333", "ssn"),
    ("SSN: 123456789", "123456789", "ssn"),
    ("Social Security No. 123 45 6789", "123 45 6789", "ssn"),
    ("BSN: 111222333", "111222333", "bsn"),
    ("BSN 1112.22.333", "1112.22.333", "bsn"),
    ("Steuer-ID: 36 574 261 809", "36 574 261 809", "de-idnr"),
    ("NHS No. 943 476 5919", "943 476 5919", "nhs"),
    ("2 95 10 99 126 111 93", "2 95 10 99 126 111 93", "nir"),
    ("Rodné číslo 710319/2745", "710319/2745", "cz-rc"),
]

NEGATIVES = [
    "078-05-1120",  # the famous invalid "wallet card" SSN
    "000-12-3456",
    "123456789",  # nine digits, no cue
    "BSN 123456789",  # fails the eleven test
    "800-532-2918",  # a phone number
    "EXP 2026-05-01",
    "12/2027",
    "4006381333931",
    "ABC-12345",
]


@pytest.mark.parametrize(("text", "expected", "rule"), POSITIVES)
def test_given_a_national_id_then_it_is_found(text: str, expected: str, rule: str) -> None:
    recognizer = NationalIdRecognizer()
    assert found(recognizer, text) == [expected]
    assert rules(recognizer, text) == {rule}


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_no_valid_id_then_nothing_is_found(text: str) -> None:
    assert found(NationalIdRecognizer(), text) == []

from __future__ import annotations

import pytest

from redactor.pii.iban import IbanRecognizer
from tests.unit.pii.support import found

POSITIVES = [
    ("IBAN: DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "DE89 3704 0044 0532 0130 00"),
    ("GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("NL91 ABNA 0417 1643 00", "NL91 ABNA 0417 1643 00"),
    ("CZ65 0800 0000 1920 0014 5399", "CZ65 0800 0000 1920 0014 5399"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
    ("iban nl91abna0417164300", "nl91abna0417164300"),
]

NEGATIVES = [
    "NL91 ABNA 0417 1643 01",  # check digits do not hold
    "DE12 3456 7890 1234 5678 90",
    "4006381333931",
    "SKU AB12 3456 7890 1234",
    "ABC-12345",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_given_a_valid_iban_then_it_is_found(text: str, expected: str) -> None:
    assert found(IbanRecognizer(), text) == [expected]


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_a_failing_checksum_then_nothing_is_found(text: str) -> None:
    assert found(IbanRecognizer(), text) == []

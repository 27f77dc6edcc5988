from __future__ import annotations

import pytest

from redactor.pii.email import EmailRecognizer
from tests.unit.pii.support import found

POSITIVES = [
    ("Contact: jane.doe@example.com", "jane.doe@example.com"),
    ("johndoe@gmail.com", "johndoe@gmail.com"),
    ("j.smith+orders@mail.example.co.uk Tel", "j.smith+orders@mail.example.co.uk"),
    # OCR noise: spaces around "@", a dot read as a space, a dot lost.
    ("jane.doe @ example.com", "jane.doe @ example.com"),
    ("ENERGYASSISTANCE@DWSS NVGOV", "ENERGYASSISTANCE@DWSS NVGOV"),
    ("mail me: anna@gmailcom", "anna@gmailcom"),
    ("max@web de", "max@web de"),
    ("Mail: jane. doe@example.com", "jane. doe@example.com"),
    # A misread top-level domain still counts when the "@" sits inside a word.
    ("peter@firma.intranet", "peter@firma.intranet"),
]

NEGATIVES = [
    "ORGANIC COFFEE",
    "@brand on Instagram",
    "2 @ $3.99",
    "Ben & Jerry's",
    "www.example.com",
    "BEST BEFORE 12/2027",
    "500 ml",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_given_an_address_then_its_whole_span_is_found(text: str, expected: str) -> None:
    assert found(EmailRecognizer(), text) == [expected]


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_no_address_then_nothing_is_found(text: str) -> None:
    assert found(EmailRecognizer(), text) == []

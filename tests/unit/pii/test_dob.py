from __future__ import annotations

import pytest

from redactor.pii.dob import DobRecognizer
from tests.unit.pii.support import found

POSITIVES = [
    ("DOB: 01/12/1978", "01/12/1978"),
    ("D.O.B. 1978-12-01", "1978-12-01"),
    ("Date of Birth (mm/dd/yy) 01/12/78", "01/12/78"),
    ("born 3 March 1990", "3 March 1990"),
    ("Date of birth: Jan 5, 1980", "Jan 5, 1980"),
    ("Geb. 12.03.1985", "12.03.1985"),
    ("Geboortedatum: 12-03-1985", "12-03-1985"),
    ("Né le 4 juillet 1976", "4 juillet 1976"),
    ("Datum narození: 1. 2. 1990", "1. 2. 1990"),
]

NEGATIVES = [
    "BEST BEFORE 12/2027",
    "EXP 2026-05-01",
    "12/07/2019 12:22 PM",
    "Packed on 01/12/2024",
    "Born to run",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_given_a_date_after_a_birth_cue_then_the_date_is_found(text: str, expected: str) -> None:
    assert found(DobRecognizer(), text) == [expected]


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_other_dates_then_nothing_is_found(text: str) -> None:
    assert found(DobRecognizer(), text) == []

from __future__ import annotations

import pytest

from redactor.pii.plate import PlateRecognizer
from tests.unit.pii.support import found, rules

POSITIVES = [
    ("AA-92114", "AA-92114", "standalone"),  # US (the truck in the shared images)
    ("ABC 1234", "ABC 1234", "standalone"),
    ("7ABC123", "7ABC123", "standalone"),
    ("AB12 CDE", "AB12 CDE", "standalone"),  # UK
    ("EM 04 UYT", "EM 04 UYT", "standalone"),  # UK, OCR split
    ("D M-AB 1234", "M-AB 1234", "standalone"),  # DE with the EU band's "D"
    ("B-XY 123", "B-XY 123", "standalone"),
    ("NL 12-ABC-3", "12-ABC-3", "standalone"),
    ("AB-123-CD", "AB-123-CD", "standalone"),  # FR
    ("1AB 2345", "1AB 2345", "standalone"),  # CZ
    ("Reg. AB12 CDE", "AB12 CDE", "cue"),
    ("Kennzeichen: B-MW 2024", "B-MW 2024", "cue"),
]

NEGATIVES = [
    "XR-2000",
    "ABC-12345",
    "Model XR-2000",
    "SKU ABC-1234",
    "Model AB-123-CD with remote",  # plate-shaped, but inside a product line
    "12 x 330 ml",
    "500 ml",
    "BEST BEFORE 12/2027",
    "EXP 2026-05-01",
    "4006381333931",
    "TWO WAY",
    "LOT A12 345",
]


@pytest.mark.parametrize(("text", "expected", "rule"), POSITIVES)
def test_given_a_plate_then_it_is_found(text: str, expected: str, rule: str) -> None:
    recognizer = PlateRecognizer()
    assert found(recognizer, text) == [expected]
    assert rules(recognizer, text) == {rule}


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_skus_and_model_numbers_then_no_plate_is_found(text: str) -> None:
    assert found(PlateRecognizer(), text) == []

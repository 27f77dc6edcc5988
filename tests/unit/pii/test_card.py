from __future__ import annotations

import pytest

from redactor.pii.card import CardRecognizer
from tests.unit.pii.support import found, rules

POSITIVES = [
    ("4111 1111 1111 1111", "4111 1111 1111 1111", "luhn"),
    ("Card 4111-1111-1111-1111 exp 09/27", "4111-1111-1111-1111", "luhn"),
    ("5500005555555559", "5500005555555559", "luhn"),
    ("3782 822463 10005", "3782 822463 10005", "luhn"),  # Amex 4-6-5
    ("4O12 8888 8888 1881", "4O12 8888 8888 1881", "luhn"),  # O read for 0
    ("ACCOUNT # **** **** **** VISA 3433", "**** **** **** VISA 3433", "masked"),
    ("CARD **** **** **** 4821", "**** **** **** 4821", "masked"),
    ("XXXX1234", "XXXX1234", "masked"),
    ("Card: ************1234", "************1234", "masked"),
    ("xxxx-xxxx-xxxx-0005", "xxxx-xxxx-xxxx-0005", "masked"),
]

NEGATIVES = [
    "4006381333931",  # EAN-13 product code
    "4111 1111 1111 1112",  # Luhn fails
    "1234 5678 9012 3456",
    "$1,299.99",
    "12 x 330 ml",
    "XXL 1234",
    "Box 1234",
    "TC #2034 2049 1021 1007 5519",
    "9400 1000 0000 0000 0000 00",
]


@pytest.mark.parametrize(("text", "expected", "rule"), POSITIVES)
def test_given_a_card_number_then_it_is_found(text: str, expected: str, rule: str) -> None:
    recognizer = CardRecognizer()
    assert found(recognizer, text) == [expected]
    assert rules(recognizer, text) == {rule}


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_no_card_then_nothing_is_found(text: str) -> None:
    assert found(CardRecognizer(), text) == []

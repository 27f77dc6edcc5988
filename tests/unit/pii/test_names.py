from __future__ import annotations

import pytest

from redactor.pii.name_lists import NameLists
from redactor.pii.names import NameRecognizer, is_cue_line, name_line_span
from tests.unit.pii.support import found, rules

#: A small stand-in for the names-dataset extract, so these tables do not depend on it.
LISTS = NameLists(
    first=frozenset({"john", "jane", "anna", "mary", "ann", "jan", "ben", "rose", "ove", "il"}),
    last=frozenset({"smith", "dijk", "schmidt", "novakova", "gold", "brands", "white"}),
)

POSITIVES = [
    ("Ship to: Jane Q. Doe", "Jane Q. Doe", "cue"),
    ("SHIP TO JOHN DOE", "JOHN DOE", "cue"),
    ("Deliver to Mary Ann Miller", "Mary Ann Miller", "cue"),
    ("Attn: Petra Nováková", "Petra Nováková", "cue"),
    ("Cashier: Anna K", "Anna K", "cue"),
    ("Dear Ms Kowalski,", "Kowalski", "cue"),
    ("Mr Smith", "Smith", "honorific"),
    ("Name: Doe John", "Doe John", "cue"),
    ("John Smith", "John Smith", "name-list"),
    ("Smith, John", "Smith, John", "name-list"),
    ("Jan van Dijk", "Jan van Dijk", "name-list"),
    ("O'Brien, Mary", "O'Brien, Mary", "first-name-line"),
    ("Jane Doe", "Jane Doe", "first-name-line"),
]

NEGATIVES = [
    "ORGANIC COFFEE",
    "Ben & Jerry's",  # two names apart, and a possessive
    "Rose Gold",  # "gold" is a common word, not a surname here
    "Mortgage Company Name: Big Corp",
    "Contact: Customer Service",
    "14 RETAIL BRANDS,OVE T",
    "CHICAGO, IL",
    "Don't Miss Out",
    "MS Office",
    "IBAN DE56 2328 6012",
    "Jack Daniel's",
    "Jane White Chocolate",
]


@pytest.mark.parametrize(("text", "expected", "rule"), POSITIVES)
def test_given_a_person_name_then_it_is_found(text: str, expected: str, rule: str) -> None:
    recognizer = NameRecognizer(LISTS)
    assert expected in found(recognizer, text)
    assert rule in rules(recognizer, text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_brand_or_packaging_text_then_no_name_is_found(text: str) -> None:
    assert found(NameRecognizer(LISTS), text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("SHIP TO:", True), ("Hello, my name is", True), ("Name:", True), ("Ship to: Jane", False)],
)
def test_cue_lines(text: str, expected: bool) -> None:
    assert is_cue_line(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Jane Doe", (0, 8)), ("J. van Dijk", (0, 11)), ("Jane Doe 12", None), ("(555) 123", None)],
)
def test_name_lines(text: str, expected: tuple[int, int] | None) -> None:
    assert name_line_span(text) == expected

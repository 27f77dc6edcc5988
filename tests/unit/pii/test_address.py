from __future__ import annotations

import pytest

from redactor.pii.address import AddressRecognizer
from tests.unit.pii.support import rules

POSITIVES = [
    ("123 Sample Street", "street"),
    ("3330 E. Flamingo Rd., #55, Las Vegas, NV 89121", "street"),
    ("221B Baker Street", "street"),
    ("12 rue de la Paix", "street"),
    ("Hauptstraße 12", "street"),
    ("Karl-Marx-Str. 5a", "street"),
    ("Lange Straße 5", "street"),
    ("Keizersgracht 123", "street"),
    ("Dorpsweg 12", "street"),
    ("Václavské náměstí 12", "street"),
    ("P.O. Box 1234", "po-box"),
    ("Springfield, IL 62704", "postcode"),
    ("LAS VEGAS NV 89121-1234", "postcode"),
    ("ZIP: 90210", "postcode"),
    ("London SW1A 1AA", "postcode"),
    ("Manchester M1 1AE", "postcode"),
    ("3769 TR Soesterberg", "postcode"),
    ("1015CJ AMSTERDAM", "postcode"),
    ("110 00 Praha 1", "postcode"),
    ("10115 Berlin", "postcode"),
    ("75008 Paris", "postcode"),
    ("CH-8001 Zürich", "postcode"),
]

NEGATIVES = [
    "ORGANIC COFFEE",
    "500 ml",
    "1000 ML",
    "12 x 330 ml",
    "Ingredients: water, sugar, salt",
    "BEST BEFORE 12/2027",
    "EXP 2026-05-01",
    "XR-2000",
    "ABC-12345",
    "$1,299.99",
    "€ 12,50",
    "4006381333931",
    "Spring 2024 collection",
    "PS5 1TB",
    "2000 Calories",
    "12 Pack Lager",
    "Apple TV 4K 64 GB",
    "OR 12345",
    "NET WT 16 OZ",
]


@pytest.mark.parametrize(("text", "rule"), POSITIVES)
def test_given_an_address_line_then_the_whole_line_is_found(text: str, rule: str) -> None:
    matches = list(AddressRecognizer().find(text))
    assert [(m.start, m.end) for m in matches] == [(0, len(text))]
    assert rules(AddressRecognizer(), text) == {rule}


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_packaging_text_then_no_address_is_found(text: str) -> None:
    assert list(AddressRecognizer().find(text)) == []

from __future__ import annotations

import pytest

from redactor.errors import ConfigError
from redactor.pii import RECOGNIZERS, build_recognizers, find_pii
from redactor.pii.base import ocr_digits

#: Product text from packaging, receipts and signs: no recognizer may fire on any of it.
PRODUCT_TEXT = [
    "ORGANIC COFFEE",
    "NORDKAFFE",
    "500 ml",
    "12 x 330 ml",
    "Ingredients: water, sugar, salt, natural flavouring",
    "BEST BEFORE 12/2027",
    "EXP 2026-05-01",
    "XR-2000",
    "ABC-12345",
    "MODEL XR-2000  SKU ABC-12345",
    "$1,299.99",
    "€ 12,50",
    "4006381333931",
    "EAN 4006381333931",
    "Ben & Jerry's",
    "LG FLATSCREEN 65",
    "SONY VIAO I7 6938",
    "6FT HDMI CABLE BB",
    "APPLE TV V4",
    "SUBTOTAL $1699.96",
    "ALL YEAR ROUND",
    "70% OFF",
    "TWO WAY TRAFFIC",
    "Rose Gold 128 GB",
    "Summer Fresh",
    "Made in Germany",
]


def test_unknown_recognizer_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="email"):
        build_recognizers(["email", "horoscope"])


def test_every_kind_has_a_recognizer() -> None:
    assert set(RECOGNIZERS) == {
        "email", "phone", "iban", "card", "address", "name", "tracking", "plate", "dob",
        "national_id",
    }  # fmt: skip


@pytest.mark.parametrize("text", PRODUCT_TEXT)
def test_given_product_text_then_no_recognizer_fires(text: str) -> None:
    # The real name lists: brand and product words must survive them too.
    recognizers = build_recognizers()
    assert [m.kind for m in find_pii(text, recognizers)] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("(7O2) 486-14O4", "(702) 486-1404"), ("OJ860129046GB", "OJ860129046GB"), ("4O4", "404")],
)
def test_digit_lookalikes_are_fixed_only_inside_numbers(text: str, expected: str) -> None:
    assert ocr_digits(text) == expected

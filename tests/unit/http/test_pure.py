"""Small pure helpers: listing cursors, address hashing, upload option parsing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from redactor.http.listing import InvalidCursor, decode_cursor, encode_cursor
from redactor.http.logging import hash_address
from redactor.http.schemas import UploadOptionsForm
from redactor.jobs import Position
from redactor.styles import STYLE_FAMILIES, STYLES

JOB = "QJRBtNs_2IIGddr9V418jA"


def test_given_cursor_then_it_round_trips() -> None:
    position = Position(1712345678.123456, JOB)
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize(
    "text",
    [
        "",
        "%%%",
        "MS4w",
        encode_cursor(Position(1.0, "short")),
        encode_cursor(Position(float("nan"), JOB)),
    ],
    ids=["empty", "not-base64", "no-id", "bad-id", "nan"],
)
def test_given_forged_cursor_then_invalid(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(text)


def test_given_address_then_hash_is_keyed_short_and_stable() -> None:
    one, again = hash_address(b"k1", "203.0.113.9"), hash_address(b"k1", "203.0.113.9")
    assert one == again and len(one) == 16 and "203" not in one
    assert hash_address(b"k2", "203.0.113.9") != one
    assert hash_address(b"k1", None) == "-"


@pytest.mark.parametrize(
    ("styles", "expected"),
    [
        (None, {}),
        ("face=pixelate", {"face": "pixelate"}),
        ("face=blur,pii.email=fill", {"face": "blur", "pii.email": "fill"}),
    ],
)
def test_given_styles_field_then_pairs_by_kind(
    styles: str | None, expected: dict[str, str]
) -> None:
    assert UploadOptionsForm(styles=styles).style_map() == expected


def test_given_every_registered_style_then_the_form_pattern_takes_it_and_nothing_else() -> None:
    for family in STYLE_FAMILIES:
        for style in STYLES:
            assert UploadOptionsForm(styles=f"{family}={style},pii.email={style}").style_map()
    for bad in ("face=smudge", "face", "faces=blur", "pii=blur", "face=blur,"):
        with pytest.raises(ValidationError):
            UploadOptionsForm(styles=bad)

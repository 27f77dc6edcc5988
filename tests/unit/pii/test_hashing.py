from __future__ import annotations

import pytest

from redactor.errors import ConfigError
from redactor.pii.hashing import HASH_HEX_CHARS, text_hash

KEY = b"0123456789abcdef0123456789abcdef"


def test_hash_is_keyed_truncated_hex_and_never_the_text() -> None:
    digest = text_hash(KEY, "jane.doe@example.com")
    assert len(digest) == HASH_HEX_CHARS
    assert int(digest, 16) >= 0
    assert "jane" not in digest
    assert digest != text_hash(b"another key of sixteen+", "jane.doe@example.com")


def test_hash_ignores_ocr_spacing_and_case() -> None:
    assert text_hash(KEY, "Jane  Doe") == text_hash(KEY, "jane doe")


def test_given_an_empty_key_then_hashing_is_refused() -> None:
    with pytest.raises(ConfigError):
        text_hash(b"", "x")

"""Keyed hashes of matched text, so reports can say "the same e-mail as before" without it.

HMAC-SHA256 under a secret key, truncated to 128 bits. Text is normalised first (NFKC,
case-folded, spaces collapsed) so OCR spacing does not change the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from redactor.errors import ConfigError

#: Hex characters kept: 128 bits, plenty to tell items apart, short in reports.
HASH_HEX_CHARS = 32


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_hash(key: bytes, text: str) -> str:
    """The keyed hash of ``text``; without the key it cannot be reversed or checked."""
    if not key:
        raise ConfigError("the text-hash key is empty; set a long random secret")
    digest = hmac.new(key, normalise(text).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:HASH_HEX_CHARS]

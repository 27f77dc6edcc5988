"""What gets redacted under each text policy, and the allow and deny lists.

``pii``: personal text only. ``all``: every text region. ``off``: nothing. The words of
an allowed term (a brand name, say) are never inside a redaction box: a match is cut
around them, and a match made only of them disappears. A denied term is always
redacted, and wins over the allow list. Terms match whole words, ignoring case, spacing
around punctuation and a lost apostrophe, because that is how OCR varies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redactor.errors import ConfigError
from redactor.options import TextPolicy
from redactor.pii.base import DENIED, PiiMatch

_APOSTROPHES = "'’‘`´"


def term_pattern(term: str) -> re.Pattern[str]:
    """A pattern for ``term`` as OCR may print it (raises on a term with no letters or digits)."""
    parts = re.findall(r"\w+|[^\w\s]", term)
    if not any(p[0].isalnum() for p in parts):
        raise ConfigError("allow/deny terms must contain letters or digits")
    pieces = [f"[{_APOSTROPHES}]?" if p in _APOSTROPHES else re.escape(p) for p in parts]
    return re.compile(r"(?<!\w)" + r"\s*".join(pieces) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Terms:
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, terms: Iterable[str]) -> Terms:
        return cls(tuple(term_pattern(t) for t in terms))

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for p in self.patterns for m in p.finditer(text)]


def _touches(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _inside(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


@dataclass(frozen=True, slots=True)
class Policy:
    mode: TextPolicy
    allow: Terms
    deny: Terms

    @classmethod
    def build(cls, mode: TextPolicy, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> Policy:
        """Validate the terms once, when the detector is built."""
        return cls(mode, Terms.of(allow), Terms.of(deny))

    def denied(self, text: str) -> list[PiiMatch]:
        """Denied terms on one line: always redacted, whatever else is found."""
        return [PiiMatch(s, e, DENIED, "deny-list") for s, e in self.deny.spans(text)]

    def kept_words(self, text: str, word_spans: Sequence[tuple[int, int]]) -> list[bool]:
        """Under ``all``: for each word span, whether it lies in an allowed, undenied term."""
        allowed, denied = self.allow.spans(text), self.deny.spans(text)
        return [_inside(allowed, s, e) and not _touches(denied, s, e) for s, e in word_spans]

"""E-mail addresses, read through OCR noise.

OCR drops or spaces out dots ("jane.doe@example com", "a@gmailcom", "jane. doe@") and
puts spaces around the "@". The domain is taken label by label up to a known top-level domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redactor.pii.base import EMAIL, PiiMatch, word_set

#: Top-level domains accepted when OCR lost the dot before them.
TLDS = word_set(
    "com net org edu gov mil int info biz io co me app dev email online shop "
    "uk de nl fr cz be at ch es it pl ie eu us ca au se dk no fi pt sk hu ro"
)

_CANDIDATE = re.compile(
    r"(?<![\w.@%+\-])"
    # A local part OCR cut after a dot ("jane. doe@") is taken whole.
    r"(?P<local>(?:[A-Za-z0-9][A-Za-z0-9._%+\-]*\s?[._]\s)?[A-Za-z0-9][A-Za-z0-9._%+\-]*)"
    r"(?P<at>\s?(?:@|\(at\)|\[at\])\s?)"
    r"(?P<domain>[A-Za-z0-9\-]+(?:(?:\s?[.,]\s?|\s)[A-Za-z0-9\-]+){0,4})"
)
_LABEL = re.compile(r"[A-Za-z0-9\-]+")


def _label_spans(domain: str) -> list[tuple[int, int, bool]]:
    """Each label's span in ``domain`` and whether a dot (or comma) came before it."""
    spans: list[tuple[int, int, bool]] = []
    for m in _LABEL.finditer(domain):
        gap = domain[spans[-1][1] : m.start()] if spans else ""
        spans.append((m.start(), m.end(), "." in gap or "," in gap))
    return spans


def _domain_end(domain: str) -> tuple[int, str] | None:
    """Where the domain ends and which rule accepted it, or ``None``."""
    labels = _label_spans(domain)
    words = [domain[s:e].casefold() for s, e, _ in labels]
    dotted = [
        i
        for i in range(1, len(labels))
        if words[i] in TLDS and all(dot for _, _, dot in labels[1 : i + 1])
    ]
    if dotted:
        return labels[dotted[-1]][1], "dotted"
    spaced = [i for i in range(1, len(labels)) if words[i] in TLDS]
    if spaced or (len(labels) > 1 and _ends_with_tld(words[1])):
        return labels[spaced[0] if spaced else 1][1], "spaced"
    if _ends_with_tld(words[0]):
        return labels[0][1], "dot-dropped"
    return None


def _dotted_run_end(domain: str) -> int:
    """End of the leading labels joined by dots."""
    spans = _label_spans(domain)
    end = spans[0][1]
    for _, label_end, dotted in spans[1:]:
        if not dotted:
            break
        end = label_end
    return end


def _ends_with_tld(label: str) -> bool:
    return any(label.endswith(tld) and len(label) > len(tld) + 1 for tld in TLDS)


class EmailRecognizer:
    kind = EMAIL

    def find(self, text: str) -> Iterator[PiiMatch]:
        for m in _CANDIDATE.finditer(text):
            end = _domain_end(m.group("domain"))
            if end is not None:
                yield PiiMatch(m.start(), m.start("domain") + end[0], self.kind, end[1])
            elif m.group("at") == "@" and any(c.isalpha() for c in m.group("local")):
                # A bare "@" inside a word is an address even when its domain is misread.
                end_of_dotted = _dotted_run_end(m.group("domain"))
                yield PiiMatch(m.start(), m.start("domain") + end_of_dotted, self.kind, "at-sign")

"""PII rules that look past one line: cues on the line above, names under a "Ship to",
address blocks; and turning matches on lines into findings.

The recognizers of :mod:`redactor.pii` see one reconstructed line at a time. These rules
add what only the layout shows: a form's column header over its value, a name alone
under its cue, every line of a label-sized block that holds an address.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from redactor.documents.fields import LineLabels, analyse, pair
from redactor.documents.lexicon import KEPT_KINDS, Lexicon, default_lexicon
from redactor.findings import TEXT
from redactor.pii import find_pii
from redactor.pii.base import (
    ADDRESS,
    DOB,
    DOCUMENT_FIELD,
    EMAIL,
    NAME,
    NATIONAL_ID,
    PHONE,
    PLATE,
    TRACKING,
    PiiMatch,
    Recognizer,
)
from redactor.pii.names import is_cue_line, name_line_span
from redactor.pii.policy import Policy
from redactor.text.blocks import group_blocks, stacked
from redactor.text.lines import TextLine

#: Kinds that make a line count towards an address block.
BLOCK_KINDS = frozenset({NAME, ADDRESS, PHONE, EMAIL})
#: Kinds whose cue may sit on the line above the item (a form's column header).
CUED_KINDS = frozenset({PHONE, DOB, NATIONAL_ID, TRACKING, PLATE})
#: Blocks larger than this are documents, not labels: only their personal lines go.
MAX_BLOCK_LINES = 8
#: The kind a value takes from its label, wherever it is (document mode takes the rest).
#: Sex, height, nationality and dates of issue or expiry are left to document mode:
#: clothing labels print "Taille"/"Größe" and packaging prints "EXP" over a date.
LABELLED_KINDS = {
    "surname": NAME,
    "given_names": NAME,
    "name": NAME,
    "date_of_birth": DOB,
    "address": ADDRESS,
    "phone": PHONE,
    "email": EMAIL,
    "place_of_birth": DOCUMENT_FIELD,
    "document_number": DOCUMENT_FIELD,
    "personal_number": DOCUMENT_FIELD,
    "account_number": DOCUMENT_FIELD,
    "customer_number": DOCUMENT_FIELD,
    "policy_number": DOCUMENT_FIELD,
    "signature": DOCUMENT_FIELD,
}
NAME_LABELS = frozenset({"surname", "given_names", "name"})
NUMBER_LABELS = frozenset(
    {"document_number", "personal_number", "account_number", "customer_number", "policy_number"}
)
MAX_NAME_WORDS = 6


@dataclass(frozen=True, slots=True)
class Hit:
    """A match on one reconstructed line (``line`` indexes the detector's lines)."""

    line: int
    match: PiiMatch


def everything(lines: Sequence[TextLine]) -> list[Hit]:
    """Under ``all``: every line, as one match the allow list then cuts into runs."""
    return [Hit(i, PiiMatch(0, len(line.text), TEXT, "policy-all")) for i, line in enumerate(lines)]


class LineRules:
    """The line recognizers plus the layout rules, over all the lines of one image."""

    def __init__(self, recognizers: Sequence[Recognizer], lexicon: Lexicon | None = None) -> None:
        self.recognizers = tuple(recognizers)
        self._cue_recognizers = [r for r in self.recognizers if r.kind in CUED_KINDS]
        self._lexicon = lexicon or default_lexicon()

    def personal(self, lines: Sequence[TextLine], policy: Policy) -> list[Hit]:
        """Every personal match, the deny list's terms included. Field labels ("ART DES
        VISUMS", a caption in a visa's label stack) are not a name, though a name rule
        may read one in them ("Art")."""
        above = lines_above(lines)
        labels = [analyse(line, self._lexicon) for line in lines]
        hits = [
            Hit(i, match)
            for i, line in enumerate(lines)
            for match in (*policy.denied(line.text), *find_pii(line.text, self.recognizers))
            if not (match.kind == NAME and _only_label_words(line, labels[i], match))
        ]
        hits += self._cued_from_above(lines, above)
        hits += _names_below_cues(lines, above, labels)
        hits += labelled_values(lines, labels)
        hits += _address_blocks(lines, hits)
        return hits

    def _cued_from_above(self, lines: Sequence[TextLine], above: dict[int, int]) -> list[Hit]:
        """Matches a cue on the line above enables: "Home Phone" over "414-2285"."""
        hits = []
        for lower, upper in above.items():
            cue = lines[upper].text + " "
            for m in find_pii(cue + lines[lower].text, self._cue_recognizers):
                if m.start >= len(cue):
                    span = (m.start - len(cue), m.end - len(cue))
                    hits.append(Hit(lower, PiiMatch(*span, m.kind, f"{m.rule}-above")))
        return hits


def labelled_values(lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> list[Hit]:
    """Values whose label says they are personal ("Surname" over "TRAVELER"), when the
    value has the shape the label promises (a date under "Date of birth")."""
    hits = []
    for field in pair(lines, labels):
        kind = LABELLED_KINDS.get(field.kind)
        start, end = field.span(lines)
        if kind is not None and _value_fits(field.kind, lines[field.line].text[start:end]):
            hits.append(Hit(field.line, PiiMatch(start, end, kind, f"{field.rule}:{field.kind}")))
    return hits


def _value_fits(label: str, value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    if label in NAME_LABELS:
        return letters >= 2 and digits == 0 and len(value.split()) <= MAX_NAME_WORDS
    if label in NUMBER_LABELS:
        return digits >= 3 or (digits >= 1 and digits + letters >= 5)
    if label == "date_of_birth":
        return digits >= 2
    if label == "phone":
        return digits >= 6
    if label == "email":
        return "@" in value
    return letters + digits >= 2


def lines_above(lines: Sequence[TextLine]) -> dict[int, int]:
    """For each line, the nearest line stacked right above it in the same column."""
    above: dict[int, int] = {}
    for i, lower in enumerate(lines):
        uppers = [j for j, upper in enumerate(lines) if j != i and stacked(upper, lower)]
        uppers = [j for j in uppers if lines[j].box.center[1] < lower.box.center[1]]
        if uppers:
            above[i] = max(uppers, key=lambda j: lines[j].box.y1)
    return above


def _only_label_words(line: TextLine, labels: LineLabels, match: PiiMatch) -> bool:
    """Whether every word under ``match`` is in a field label read exactly ("ART DES
    VISUMS"), but for one-letter words: an initial is no evidence of a name ("ART DES
    VISUMS C", the visa type on the row). A state, title or a label read with edits is
    no evidence against a name: "Frances Boyle" is one edit from "France"."""
    exact = [m for m in labels.matches if m.edits == 0 and m.kind not in KEPT_KINDS]
    words = [
        (start, end)
        for start, end in line.spans
        if start < match.end and match.start < end and end - start > 1
    ]
    return bool(words) and all(
        any(m.start <= start and end <= m.end for m in exact) for start, end in words
    )


def _names_below_cues(
    lines: Sequence[TextLine], above: dict[int, int], labels: Sequence[LineLabels]
) -> list[Hit]:
    """A name alone on the line under "SHIP TO:" or "Hello, my name is". A field label
    under a name cue ("Nom" under "Name" in a visa's label stack) is not a name."""
    hits = []
    for lower, upper in above.items():
        if labels[lower].not_a_value or not is_cue_line(lines[upper].text):
            continue
        span = name_line_span(lines[lower].text)
        if span is not None:
            hits.append(Hit(lower, PiiMatch(*span, NAME, "cue-above")))
    return hits


def _address_blocks(lines: Sequence[TextLine], hits: Sequence[Hit]) -> list[Hit]:
    """Every line of a label-sized block holding an address and another personal line."""
    personal = {h.line for h in hits if h.match.kind in BLOCK_KINDS}
    addressed = {h.line for h in hits if h.match.kind == ADDRESS}
    found = {h.line for h in hits}
    extra = []
    for block in group_blocks(lines):
        members = set(block)
        if len(block) > MAX_BLOCK_LINES or not addressed & members:
            continue
        if len(personal & members) >= 2:
            extra += [
                Hit(i, PiiMatch(0, len(lines[i].text), ADDRESS, "address-block"))
                for i in block
                if i not in found
            ]
    return extra


def deduplicated(hits: Sequence[Hit], lines: Sequence[TextLine]) -> list[Hit]:
    """Drop hits whose words a hit of the same kind on the same line already covers."""

    def words(hit: Hit) -> frozenset[int]:
        spans = lines[hit.line].spans
        return frozenset(k for k, (s, e) in enumerate(spans) if hit.match.overlaps(s, e))

    covered = [(h, words(h)) for h in hits]
    kept = []
    for i, (hit, ws) in enumerate(covered):
        dominated = any(
            (other.line, other.match.kind) == (hit.line, hit.match.kind)
            and ws <= ows
            and (ws < ows or j < i)
            for j, (other, ows) in enumerate(covered)
            if j != i
        )
        if not dominated:
            kept.append(hit)
    return kept


def runs(flags: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` index ranges of consecutive true flags."""
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            yield start, i
            start = None

"""Labelled fields: which words of each line are labels, and which values they label.

Forms, identity documents, shipping labels, badges and certificates print a value under
its label ("Surname" over "TRAVELER") or after it on the same row ("Name: Jane Doe",
or "Date of birth" with the date a column further right). The value carries no cue of
its own; the label says what it is. This module finds the labels of every line with the
lexicon, marks the words that are label text (kept), and pairs each value with its label:

* key left, same line: the words after a label, up to the next label;
* key left, next box on the row: a line holding only labels, and the nearest line to
  its right on the same row (within :data:`MAX_ROW_GAP` line heights);
* key above: a line holding only labels, and the line stacked right under it (same
  column, within a line height); each value word takes the label nearest above it, and
  an address label takes up to :data:`ADDRESS_LINES` stacked lines.

In a line with labels, a ``/``-separated part that no lexicon phrase matches but that
looks like a label (no digits, not all capitals) counts as label text: multilingual
labels name the field in languages the lexicon may lack ("Vārds/Given names/Prénoms").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from redactor.documents.lexicon import (
    _FIELD_NUMBER,
    KEPT_KINDS,
    STATE,
    TITLE,
    VALUE,
    LabelMatch,
    Lexicon,
)
from redactor.text.blocks import stacked
from redactor.text.lines import TextLine

#: A value this many line heights right of a label-only line still belongs to it.
MAX_ROW_GAP = 8.0
#: Lines of an address under one "Address" label.
ADDRESS_LINES = 3
#: Share of a word's letters and digits inside label text for it to be a label word.
LABEL_WORD_SHARE = 0.7
#: A title printed over two lines: its first line holds at most this many words, and at
#: most this many words of the second complete it.
MAX_TITLE_HEAD_WORDS = 3
MAX_TITLE_TAIL_WORDS = 4
#: The second line's middle lies at least this share of the first's height lower.
WRAP_DROP = 0.3
#: A word of a line, for where a title may end.
_WORD = re.compile(r"\S+")
#: Share of small letters in a label-shaped line.
LABEL_LOWER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class LineLabels:
    """The labels of one line and which of its words are label text."""

    matches: tuple[LabelMatch, ...]
    label_words: frozenset[int]
    word_count: int
    #: Shaped like a multilingual label the lexicon cannot read (see :func:`label_shaped`).
    label_shaped: bool = False
    #: Holds a word that is a value, never a label ("Female"): see ``labels/values.tsv``.
    holds_value: bool = False
    #: Words that start with a label and end with its value, read as one
    #: ("Nationality:GBR", "Sex/F"): word index and where the value starts in the text.
    tails: tuple[tuple[int, int], ...] = ()

    def tail_of(self, word: int) -> int | None:
        return next((start for k, start in self.tails if k == word), None)

    @property
    def field_kinds(self) -> frozenset[str]:
        return frozenset(m.kind for m in self.matches if m.kind not in KEPT_KINDS)

    @property
    def only_labels(self) -> bool:
        """Every word is label text, and at least one label is a field's."""
        return len(self.label_words) == self.word_count and bool(self.field_kinds)

    @property
    def only_kept(self) -> bool:
        """Every word is label text or a title, state or specimen word."""
        return len(self.label_words) == self.word_count and bool(self.matches)

    @property
    def not_a_value(self) -> bool:
        """Labels, titles or a label-shaped line: never the value of a label above it."""
        return self.only_kept or self.label_shaped

    @property
    def value_words(self) -> list[int]:
        return [k for k in range(self.word_count) if k not in self.label_words]


@dataclass(frozen=True, slots=True)
class Field:
    """Words ``first..end`` (exclusive) of line ``line`` are the value of a ``kind`` label."""

    line: int
    first: int
    end: int
    kind: str
    rule: str

    def span(self, lines: Sequence[TextLine]) -> tuple[int, int]:
        spans = lines[self.line].spans
        return spans[self.first][0], spans[self.end - 1][1]


def analyse(line: TextLine, lexicon: Lexicon) -> LineLabels:
    """The labels of ``line`` and its label words."""
    return _labels(line, lexicon.find(line.text))


def wrapped_titles(
    lines: Sequence[TextLine], labels: Sequence[LineLabels], lexicon: Lexicon
) -> list[LineLabels]:
    """``labels`` with the document titles printed over two lines marked: a line the
    lexicon reads nothing in ("KARTA") whose words, with the first words of the line
    right under it ("TA' L-IDENTITÀ Nu/No 9999999M"), are a title. Neither half is a
    title alone, and OCR reads each row as its own line."""
    out = list(labels)
    for a, upper in enumerate(lines):
        if (
            labels[a].matches
            or len(upper.words) > MAX_TITLE_HEAD_WORDS
            or not lexicon.title_head(upper.text)
        ):
            continue
        for b, lower in enumerate(lines):
            first = labels[b].matches[0] if labels[b].matches else None
            if b == a or (first is not None and first.start == 0 and first.kind != TITLE):
                continue
            found = _title_end(upper, lower, lexicon)
            if found is None:
                continue
            end, edits = found
            title = LabelMatch(0, len(upper.text), TITLE, edits)
            out[a] = _labels(upper, [title])
            rest = [
                replace(m, start=m.start + end, end=m.end + end)
                for m in lexicon.find(lower.text[end:])
            ]
            out[b] = _labels(lower, [replace(title, end=end), *rest])
            break
    return out


def _title_end(upper: TextLine, lower: TextLine, lexicon: Lexicon) -> tuple[int, int] | None:
    """Where a title that begins with all of ``upper`` ends in ``lower``, and the edits
    it took, when ``lower`` goes on under it (lower by :data:`WRAP_DROP` of its height,
    within a line height, its first words left-aligned or centred under it); None if no
    title does."""
    drop = lower.box.center[1] - upper.box.center[1]
    if not (
        lower.box.y0 > upper.box.y0
        and drop >= WRAP_DROP * upper.height
        and lower.box.y0 - upper.box.y1 <= upper.height
    ):
        return None
    ends = [m.end() for m in _WORD.finditer(lower.text)][:MAX_TITLE_TAIL_WORDS]
    for end in reversed(ends):
        found = lexicon.lookup(f"{upper.text} {lower.text[:end]}")
        if found is None or found[0] != TITLE:
            continue
        head = lower.box_of(0, end)
        left = abs(head.x0 - upper.box.x0) <= upper.height
        centred = abs(head.center[0] - upper.box.center[0]) <= upper.height
        return (end, found[1]) if left or centred else None
    return None


def _labels(line: TextLine, found: Sequence[LabelMatch]) -> LineLabels:
    """The labels of ``line`` from the lexicon's matches in its text."""
    matches = tuple(m for m in found if m.kind != VALUE)
    holds_value = len(matches) < len(found)
    if holds_value:
        # a state beside a word that is always a value is part of it: a visa's territory
        # ("VALABLE POUR ETATS SCHENGEN"), not the issuing state
        matches = tuple(m for m in matches if m.kind != STATE)
    shaped = label_shaped(line.text) and not holds_value
    if not matches:
        return LineLabels((), frozenset(), len(line.words), shaped, holds_value)
    labelish = [False] * len(line.text)
    for m in matches:
        labelish[m.start : m.end] = [True] * (m.end - m.start)
    _mark_label_like_parts(line.text, labelish)
    _mark_field_numbers(line.text, matches, labelish)
    _mark_state_names(line.text, matches, labelish)
    tails = tuple(
        (k, start)
        for k, span in enumerate(line.spans)
        if (start := _value_tail(line.text, span, labelish)) is not None
    )
    tailed = {k for k, _ in tails}
    words = frozenset(
        k
        for k, span in enumerate(line.spans)
        if k not in tailed and _is_label_word(line.text, span, labelish)
    )
    return LineLabels(matches, words, len(line.words), shaped, holds_value, tails)


def _value_tail(text: str, span: tuple[int, int], labelish: list[bool]) -> int | None:
    """Where the value starts in a word that begins with label text and goes on, after a
    ``:`` or ``/``, with characters no label explains ("Nationality:GBR", "Nº:029067")."""
    start, end = span
    if not any(labelish[start:end]):
        return None
    for i in range(start, end):
        if text[i].isalnum() and not labelish[i]:
            if i > start and any(labelish[start:i]) and text[i - 1] in ":/|":
                return i
            return None
    return None


def label_shaped(text: str) -> bool:
    """A line printed like a multilingual label: parts joined by ``/``, no digits, mostly
    small letters, and no part in capitals ("Pilsonība/Nationality", or OCR's garbled
    "Narrponatta /Nationate"). Values on documents are capitals and digits; a value
    with a slash ("MLT/Malija", "V/M", "12/06/1979") has a capital part or digits."""
    if "/" not in text or any(c.isdigit() for c in text):
        return False
    parts = [[c for c in part if c.isalpha()] for part in text.split("/")]
    parts = [p for p in parts if len(p) >= 2]
    if not parts or any(len(p) >= 2 and all(c.isupper() for c in p) for p in parts):
        return False
    letters = [c for p in parts for c in p]
    return sum(c.islower() for c in letters) >= LABEL_LOWER_SHARE * len(letters)


def _mark_label_like_parts(text: str, labelish: list[bool]) -> None:
    start = 0
    for end in [*(i for i, c in enumerate(text) if c == "/"), len(text)]:
        part = text[start:end]
        letters = [c for c in part if c.isalpha()]
        covered = any(labelish[start:end])
        # a part in capitals no phrase matched is a value ("Sex/F", "Nom/DUPONT")
        shouted = all(c.isupper() for c in letters)
        if not covered and letters and not any(c.isdigit() for c in part) and not shouted:
            labelish[start:end] = [True] * (end - start)
        start = end + 1


def _mark_field_numbers(text: str, matches: Sequence[LabelMatch], labelish: list[bool]) -> None:
    """A field number right before a label ("4a ISS", "3 DOB") is part of it."""
    for m in matches:
        head = text[: m.start].rstrip()
        token_start = head.rfind(" ") + 1
        if _FIELD_NUMBER.match(head[token_start:]):
            labelish[token_start : len(head)] = [True] * (len(head) - token_start)


def _mark_state_names(text: str, matches: Sequence[LabelMatch], labelish: list[bool]) -> None:
    """The words after a state word ("REPUBLIC OF" + "UTOPIA") are the state's name, up
    to a word with a digit or a ``/``."""
    for m in matches:
        if m.kind != STATE:
            continue
        for token in re.finditer(r"[^\s/]+", text[m.end :]):
            if (
                any(c.isdigit() for c in token.group())
                or "/" in text[m.end : m.end + token.start()]
            ):
                break
            labelish[m.end + token.start() : m.end + token.end()] = [True] * len(token.group())


def _is_label_word(text: str, span: tuple[int, int], labelish: list[bool]) -> bool:
    """Mostly label text; punctuation alone ("/", "-") goes with the labels around it."""
    chars = [i for i in range(*span) if text[i].isalnum()]
    return not chars or sum(labelish[i] for i in chars) >= LABEL_WORD_SHARE * len(chars)


def pair(lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> list[Field]:
    """Every labelled value: inline, on the row to the right, and under its label."""
    found = [f for i, info in enumerate(labels) for f in _inline(i, lines[i], info)]
    taken = {f.line for f in found}
    for i, info in enumerate(labels):
        if not info.only_labels:
            continue
        for field in [*_right_of(i, lines, labels), *_under(i, lines, labels)]:
            if field.line not in taken:
                found.append(field)
                taken.add(field.line)
    return found


def _inline(index: int, line: TextLine, info: LineLabels) -> list[Field]:
    """Values that follow a label on the same line."""
    fields = []
    k = 0
    while k < info.word_count:
        if k in info.label_words:
            k += 1
            continue
        end = k
        while end < info.word_count and end not in info.label_words:
            end += 1
        tail = info.tail_of(k)
        label = _label_before(line, info, line.spans[k][0] if tail is None else tail)
        if label is not None:
            fields.append(Field(index, k, end, label.kind, "label-left"))
        k = end
    return fields


def _label_before(line: TextLine, info: LineLabels, position: int) -> LabelMatch | None:
    before = [m for m in info.matches if m.end <= position and m.kind not in KEPT_KINDS]
    return before[-1] if before else None


def _right_of(index: int, lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> list[Field]:
    label = lines[index]
    kinds = [m for m in labels[index].matches if m.kind not in KEPT_KINDS]
    best = None
    for j, line in enumerate(lines):
        if j == index or labels[j].not_a_value or not _same_row(label, line):
            continue
        gap = line.box.x0 - label.box.x1
        if 0 <= gap <= MAX_ROW_GAP * max(label.height, line.height) and (
            best is None or gap < lines[best].box.x0 - label.box.x1
        ):
            best = j
    if best is None:
        return []
    words = labels[best].value_words
    return [Field(best, words[0], words[-1] + 1, kinds[-1].kind, "label-left")] if words else []


def _same_row(a: TextLine, b: TextLine) -> bool:
    overlap = min(a.box.y1, b.box.y1) - max(a.box.y0, b.box.y0)
    return overlap >= 0.5 * min(a.box.height, b.box.height)


def _under(index: int, lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> list[Field]:
    """The value line(s) stacked under a label-only line, word by word to the nearest label."""
    label_line = lines[index]
    below = _stacked_below(index, lines)
    fields: list[Field] = []
    count = 0
    while below is not None and not labels[below].not_a_value and count < ADDRESS_LINES:
        fields += _assigned(label_line, labels[index], below, lines[below], labels[below])
        count += 1
        if not fields or fields[-1].kind != "address":
            break
        below = _stacked_below(below, lines)
    return fields


def _stacked_below(index: int, lines: Sequence[TextLine]) -> int | None:
    upper = lines[index]
    under = [
        j
        for j, line in enumerate(lines)
        if j != index and line.box.center[1] > upper.box.center[1] and stacked(upper, line)
    ]
    return min(under, key=lambda j: lines[j].box.y0) if under else None


def _assigned(
    label_line: TextLine, info: LineLabels, index: int, line: TextLine, value_info: LineLabels
) -> list[Field]:
    """Runs of value words of ``line``, each taking the label column it sits in: the
    rightmost field label that starts left of the word's end (values sit under their
    label, left-aligned), else the first label."""
    matches = [m for m in info.matches if m.kind not in KEPT_KINDS]
    starts = [min(w.box.x0 for w in label_line.words_in(m.start, m.end)) for m in matches]
    fields: list[Field] = []
    for k in value_info.value_words:
        right = line.words[k].box.x1
        column = max((n for n, x in enumerate(starts) if x <= right), default=0)
        kind = matches[column].kind
        if fields and fields[-1].kind == kind and fields[-1].end == k:
            fields[-1] = Field(index, fields[-1].first, k + 1, kind, "label-above")
        else:
            fields.append(Field(index, k, k + 1, kind, "label-above"))
    return fields

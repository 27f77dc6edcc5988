"""Label stacks: a label's other languages, printed under it beside one tall value.

Visas and residence permits print a field's label in two or three languages, one under
the other in small type ("GÜLTIG FÜR" / "VALABLE POUR" / "VALID FOR"), and its value
once, in large type, right of the stack and about as tall as it. OCR reads the first
label and the lexicon knows it, but the lines under it often come out garbled, or two
rows of the stack merged into one box ("PRM OM" for "DU" over "FROM"); failing closed,
document mode would redact them as values, and a reviewer loses what the card says.

A word is taken for the same label in another language only when all of this holds:

* a label-only line (every word a label, one of them a field's) has a value on its
  row, to its right and set apart from it, clearly taller than the label
  (:data:`TALLER`) and reaching below it;
* the word sits under that label, starts in its column (or continues a run of such
  words that does), the run at least :data:`WIDE` of the label's width, ends before
  the value, and lies within the value's rows: the stack is beside the value, not
  under it;
* it has no digit;
* its ink, judged with the words next to it that pass the above (OCR splits a stack
  into slivers too narrow to judge alone), is label-sized: no taller than the label
  (:data:`ONE_ROW`), or ink rows in bands each no taller than the label, two or more
  of them tall enough to be text (rows of the stack OCR boxed together).

A value printed under its label ("Surname" over "TRAVELER") is not beside a taller
value on the label's row, so it stays redacted; anything else unsure stays redacted too.
"""

from __future__ import annotations

from collections.abc import Sequence

from redactor.documents.fields import MAX_ROW_GAP, LineLabels
from redactor.documents.margins import INK_ROW_SHARE, Grey, ink_mask
from redactor.geometry import Box, union_box
from redactor.text.context import runs
from redactor.text.lines import TextLine

#: A value at least this many times the label's height leaves room for a stack beside it.
TALLER = 1.6
#: A stack's row spans at least this share of the label's width (the same words in
#: another language); a short value under a label ("M" under "Sex") does not.
WIDE = 0.5
#: A word up to this many times the label's height is one row of the stack.
ONE_ROW = 1.3
#: A band of ink rows up to this many times the label's (box) height is a row of small type.
BAND = 1.2
#: A band of ink rows at least this share of the label's height is a row of text (not an
#: accent or a speck).
ROW_SHARE = 0.3
#: The stack may reach this share of the label's height below the value's box.
SLACK = 0.25


def stack_words(
    grey: Grey, lines: Sequence[TextLine], labels: Sequence[LineLabels]
) -> set[tuple[int, int]]:
    """``(line, word)`` indices of the words that are a label stack's other languages."""
    found: set[tuple[int, int]] = set()
    for k, info in enumerate(labels):
        if not info.only_labels:
            continue
        label = lines[k]
        value = _row_value(k, lines, labels)
        if value is None:
            continue
        for i, line in enumerate(lines):
            if i == k:
                continue
            beside = [
                n not in labels[i].label_words
                and not any(c.isdigit() for c in line.text[slice(*line.spans[n])])
                and _in_stack(word.box, label, value)
                for n, word in enumerate(line.words)
            ]
            for start, end in runs(beside):
                box = union_box([w.box for w in line.words[start:end]])
                in_column = label.box.x0 - label.height <= box.x0 < label.box.x1
                wide = box.width >= WIDE * label.box.width
                if in_column and wide and _label_sized(grey, box, label.height):
                    found.update((i, n) for n in range(start, end))
    return found


def _row_value(index: int, lines: Sequence[TextLine], labels: Sequence[LineLabels]) -> Box | None:
    """The box of the nearest value word right of label line ``index`` on its row, when
    it is clearly taller than the label and reaches below it. It starts at least a label
    height right of the label: a word closer is a sliver of the stack itself."""
    label = lines[index]
    reach = MAX_ROW_GAP * label.height
    best: Box | None = None
    for j, line in enumerate(lines):
        if j == index:
            continue
        for n, word in enumerate(line.words):
            box = word.box
            if n in labels[j].label_words or not label.height <= box.x0 - label.box.x1 <= reach:
                continue
            overlaps = min(box.y1, label.box.y1) > max(box.y0, label.box.y0)
            if overlaps and box.y1 > label.box.y1 and (best is None or box.x0 < best.x0):
                best = box
    return best if best is not None and best.height >= TALLER * label.height else None


def _in_stack(word: Box, label: TextLine, value: Box) -> bool:
    top = label.box
    return (
        word.center[1] > top.center[1]
        and word.x0 >= top.x0 - label.height
        and word.x1 <= value.x0
        and word.y1 <= value.y1 + SLACK * label.height
    )


def _label_sized(grey: Grey, word: Box, height: float) -> bool:
    if word.height <= ONE_ROW * height:
        return True
    bands = ink_bands(grey, word)
    rows = [b for b in bands if b >= ROW_SHARE * height]
    return len(rows) >= 2 and all(b <= BAND * height for b in bands)


def ink_bands(grey: Grey, box: Box) -> list[int]:
    """Heights of the runs of inked rows in ``box``, top to bottom (a row is inked when
    :data:`~redactor.documents.margins.INK_ROW_SHARE` of it is ink). On a busy background
    every row is inked: one band, as tall as the box, and nothing is kept."""
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    crop = grey[y0:y1, x0:x1]
    if crop.size == 0:
        return []
    rows = ink_mask(crop).mean(axis=1) > INK_ROW_SHARE
    bands: list[int] = []
    run = 0
    for inked in rows:
        if inked:
            run += 1
        elif run:
            bands.append(run)
            run = 0
    if run:
        bands.append(run)
    return bands

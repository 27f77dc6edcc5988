"""Rebuild text lines from the pieces an engine read, and map character spans back to boxes.

Engines cut one printed line into several runs (a wide gap, a change of font, a phone
number read apart from its label). PII rules need the whole line to see "Tel: +44 ..."
or an e-mail split at the "@", so runs are chained left to right when they overlap
vertically, have similar heights and sit close together. Words of one run always stay
together and in order.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from redactor.geometry import Box, union_box
from redactor.text.ocr import OcrLine, OcrWord

#: Largest gap between two runs of one line, in line heights. Word gaps are about 0.3-0.6,
#: gaps between a label and its value up to about 2; table columns are wider.
MAX_GAP = 2.5
#: Smallest vertical overlap of neighbouring words, as a share of the lower one's height.
MIN_OVERLAP = 0.5
#: Largest height ratio of neighbouring words: a headline is not part of the small print.
MAX_HEIGHT_RATIO = 1.8


@dataclass(frozen=True, slots=True)
class TextLine:
    """Words on one line, left to right, and their text joined by single spaces."""

    words: tuple[OcrWord, ...]
    text: str
    #: Character span of each word in :attr:`text`.
    spans: tuple[tuple[int, int], ...]
    box: Box
    #: Median word height: the line's type size, robust to one tall or short word.
    height: float

    @classmethod
    def of(cls, words: Sequence[OcrWord]) -> TextLine:
        spans, start = [], 0
        for word in words:
            spans.append((start, start + len(word.text)))
            start += len(word.text) + 1
        return cls(
            words=tuple(words),
            text=" ".join(w.text for w in words),
            spans=tuple(spans),
            box=union_box([w.box for w in words]),
            height=statistics.median(w.box.height for w in words),
        )

    def words_in(self, start: int, end: int) -> tuple[OcrWord, ...]:
        """The words any character of ``text[start:end]`` belongs to."""
        return tuple(
            word
            for word, (w_start, w_end) in zip(self.words, self.spans, strict=True)
            if w_start < end and start < w_end
        )

    def box_of(self, start: int, end: int) -> Box:
        """The union of the whole boxes of the words under ``text[start:end]``."""
        words = self.words_in(start, end)
        if not words:
            raise ValueError("span covers no word")
        return union_box([w.box for w in words])

    def confidence_of(self, start: int, end: int) -> float:
        """The lowest confidence of the words under the span: the weakest reading in it."""
        return min(w.confidence for w in self.words_in(start, end))


def continues(left: OcrWord, right: OcrWord) -> bool:
    """Whether ``right`` carries on the line that ``left`` ends."""
    low, high = sorted((left.box.height, right.box.height))
    if low <= 0 or high / low > MAX_HEIGHT_RATIO:
        return False
    overlap = min(left.box.y1, right.box.y1) - max(left.box.y0, right.box.y0)
    gap = right.box.x0 - left.box.x1
    return overlap >= MIN_OVERLAP * low and -0.5 * high <= gap <= MAX_GAP * high


def build_lines(runs: Sequence[OcrLine]) -> list[TextLine]:
    """Chain runs into lines; lines come top to bottom, then left to right."""
    chains: list[list[OcrWord]] = []
    for run in sorted((r for r in runs if r.words), key=lambda r: r.words[0].box.x0):
        head = run.words[0]
        candidates = [c for c in chains if continues(c[-1], head)]
        if candidates:
            min(candidates, key=lambda c: head.box.x0 - c[-1].box.x1).extend(run.words)
        else:
            chains.append(list(run.words))
    lines = [TextLine.of(chain) for chain in chains]
    return sorted(lines, key=lambda line: (line.box.y0, line.box.x0))

"""Label stacks: a label's other languages beside a tall value are kept, values are not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from redactor.documents.fields import analyse
from redactor.documents.lexicon import default_lexicon
from redactor.documents.stacks import ink_bands, stack_words
from redactor.geometry import Box
from redactor.text.lines import TextLine
from redactor.text.ocr import OcrWord
from tests.unit.documents.test_review import PAGE, covered_texts, page_lines, reviewed

#: A blank page: no ink anywhere, so only one-row words pass the ink test.
BLANK = np.full((400, 700), 230, np.uint8)


def line(*words: tuple[str, float, float, float, float]) -> TextLine:
    return TextLine.of([OcrWord(text, Box(x0, y0, x1, y1), 0.9) for text, x0, y0, x1, y1 in words])


#: A visa row: "VALID FOR" (9 px) with its value, 30 px tall, to the right.
LABEL = line(("VALID", 170, 60, 195, 69), ("FOR", 197, 60, 212, 69))
VALUE = line(("SCHENGEN", 270, 58, 420, 88))


def kept(lines: list[TextLine], grey: npt.NDArray[np.uint8] = BLANK) -> set[str]:
    labels = [analyse(x, default_lexicon()) for x in lines]
    return {lines[i].words[n].text for i, n in stack_words(grey, lines, labels)}


@pytest.mark.parametrize(
    ("under", "expected"),
    [
        # garbled other languages of the label, stacked under it beside the value: kept
        ([line(("VAIAPLE", 170, 69, 200, 78), ("POUP", 201, 69, 215, 78))], {"VAIAPLE", "POUP"}),
        ([line(("GUTIC", 171, 78, 195, 87))], {"GUTIC"}),
        # a digit: a value, never a label
        ([line(("VAIAPLE", 170, 69, 200, 78), ("P0UP", 201, 69, 215, 78))], {"VAIAPLE"}),
        # reaching below the value's rows: under the label, not beside the value
        ([line(("TRAVELER", 170, 84, 220, 96))], set()),
        # a short value under the label ("M" under "Sex"), not the label in another language
        ([line(("M", 171, 69, 178, 77))], set()),
        # starting left of the label's column
        ([line(("TRAVELER", 140, 69, 165, 78))], set()),
        # as tall as the value and blank inside: no rows of small type
        ([line(("TRAVELER", 170, 62, 230, 86))], set()),
    ],
)
def test_given_words_under_a_label_beside_a_tall_value_then_only_label_like_ones_are_kept(
    under: list[TextLine], expected: set[str]
) -> None:
    assert kept([LABEL, VALUE, *under]) == expected


def test_given_a_value_no_taller_than_its_label_then_nothing_under_the_label_is_kept() -> None:
    value = line(("SCHENGEN", 270, 60, 330, 71))
    under = line(("TRAVELER", 170, 69, 220, 78))
    assert kept([LABEL, value, under]) == set()


def test_given_the_value_right_beside_the_stack_then_it_is_not_taken_for_the_row_value() -> None:
    # a sliver OCR split off the stack is too close to the label to be its value
    sliver = line(("OM", 214, 62, 217, 86))
    under = line(("PRM", 170, 69, 200, 78))
    assert kept([LABEL, sliver, under]) == set()


def rows_of_ink(bands: list[tuple[int, int]]) -> npt.NDArray[np.uint8]:
    grey = BLANK.copy()
    for top, bottom in bands:
        grey[top:bottom, 172:210:2] = 20  # glyph strokes
    return grey


def test_given_two_stack_rows_in_one_box_then_the_ink_bands_keep_them() -> None:
    grey = rows_of_ink([(70, 76), (79, 85)])
    merged = line(("PRM", 170, 68, 212, 87))
    assert ink_bands(grey, merged.words[0].box) == [6, 6]
    assert kept([LABEL, VALUE, merged], grey) == {"PRM"}


def test_given_one_tall_band_in_a_tall_box_then_it_is_type_of_a_value_and_redacted() -> None:
    grey = rows_of_ink([(70, 86)])
    merged = line(("PRM", 170, 68, 212, 87))
    assert kept([LABEL, VALUE, merged], grey) == set()


def test_given_a_visa_stack_in_a_document_then_the_stack_stays_and_the_value_goes() -> None:
    stack = [("VALID FOR", 40, 300, 9), ("VAIAPLE POUP", 40, 309, 9), ("SCHENGEN", 120, 298, 30)]
    lines = page_lines([*PAGE, *stack])
    covered = covered_texts(lines, reviewed(lines))
    assert "SCHENGEN" in covered
    assert not {"VALID", "FOR", "VAIAPLE", "POUP"} & covered

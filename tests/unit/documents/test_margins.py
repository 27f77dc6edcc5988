"""Redaction margins inside documents: full around a value, never into a kept label."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.documents.margins import (
    INK_EDGE_PX,
    KEPT_CLEARANCE,
    KEPT_CLEARANCE_PX,
    Grey,
    beside_kept,
    clipped_region,
    finding_box,
    margin_of,
    split_from_kept,
    trimmed_to_ink,
)
from redactor.findings import Finding
from redactor.geometry import Box
from redactor.options import PipelineOptions
from redactor.pii.base import DOCUMENT_FIELD
from redactor.redact import region_for

VALUE = Box(100, 120, 300, 140)


def test_given_nothing_kept_nearby_then_the_value_gets_the_usual_margin() -> None:
    assert clipped_region(VALUE, []) == VALUE.padded(margin_of(VALUE))


def test_given_a_label_right_above_then_the_margin_stops_short_of_it() -> None:
    label = Box(100, 102, 220, 116)
    region = clipped_region(VALUE, [label])
    assert region.y0 == label.y1 + KEPT_CLEARANCE_PX
    assert region.y1 == VALUE.y1 + margin_of(VALUE)


def test_given_a_label_right_below_or_beside_then_the_margin_stops_short_of_it() -> None:
    below, left = Box(100, 145, 200, 157), Box(40, 122, 96, 138)
    region = clipped_region(VALUE, [below, left])
    assert region.y1 == below.y0 - KEPT_CLEARANCE_PX and region.x0 == left.x1 + KEPT_CLEARANCE_PX


def test_given_a_tall_kept_box_then_the_clearance_grows_with_it() -> None:
    title = Box(100, 60, 300, 120)  # 60 px tall: a tenth of it is 6 px
    region = clipped_region(Box(100, 130, 300, 170), [title])
    assert region.y0 == title.y1 + KEPT_CLEARANCE * title.height


def test_given_a_label_closer_than_the_clearance_then_the_value_keeps_its_edge() -> None:
    touching, near = Box(100, 104, 220, 119), Box(100, 104, 220, 117)
    assert clipped_region(VALUE, [touching]).y0 == touching.y1  # never into the label
    assert clipped_region(VALUE, [near]).y0 == VALUE.y0 - INK_EDGE_PX  # its edge, no more


def test_given_a_label_box_overlapping_the_value_then_the_value_wins() -> None:
    overlapping = Box(100, 110, 220, 125)  # OCR boxes of tightly set lines overlap
    region = clipped_region(VALUE, [overlapping])
    assert region.y0 == VALUE.y0  # no margin, but the value's box stays whole


def test_a_thinner_vertical_margin_can_be_asked_for() -> None:
    region = clipped_region(VALUE, [], vertical=1.0)
    assert (region.y0, region.y1) == (VALUE.y0 - 1, VALUE.y1 + 1)
    assert region.x0 == VALUE.x0 - margin_of(VALUE)


@pytest.mark.parametrize("region", [Box(0, 0, 200, 40), Box(10, 10, 400, 300), Box(5, 5, 60, 18)])
def test_the_finding_box_is_padded_back_to_the_region_by_the_redactor(region: Box) -> None:
    finding = Finding(DOCUMENT_FIELD, finding_box(region), 1.0, "documents", "test")
    redacted = region_for(finding, PipelineOptions())
    assert redacted.x0 <= region.x0 + 1e-6 and redacted.y0 <= region.y0 + 1e-6
    assert redacted.x1 >= region.x1 - 1e-6 and redacted.y1 >= region.y1 - 1e-6
    assert redacted.height <= region.height + 2 * margin_of(Box(0, 0, 1, 1)) + 1e-6


def test_the_redactor_fills_exactly_the_pixels_of_the_region_it_is_handed_back() -> None:
    rng = np.random.default_rng(1)
    options = PipelineOptions()
    for _ in range(2000):
        x0, y0 = (float(v) for v in rng.integers(0, 2000, 2))
        region = Box(
            x0,
            y0 + rng.choice([0.0, 0.25, 0.5]),
            x0 + rng.uniform(40, 300),
            y0 + rng.uniform(6, 60),
        )
        finding = Finding(DOCUMENT_FIELD, finding_box(region), 1.0, "documents", "test")
        assert region_for(finding, options).to_int() == region.to_int()


def test_given_a_region_too_small_to_shrink_then_it_is_used_as_is() -> None:
    tiny = Box(0, 0, 3, 3)
    assert finding_box(tiny) == tiny


def _page_with_rows(ink_rows: list[range], height: int = 40, width: int = 200) -> Grey:
    grey = np.full((height, width), 235, np.uint8)
    for rows in ink_rows:
        grey[rows.start : rows.stop, 20:180:3] = 20  # strokes
    return grey


def test_given_a_label_inside_the_ocr_box_then_the_box_is_cut_to_the_value_ink() -> None:
    grey = _page_with_rows([range(4, 9), range(16, 30)])  # label rows, then the value
    box = Box(10, 4, 190, 34)  # OCR's grown box reaches the label
    trimmed = trimmed_to_ink(grey, box)
    assert trimmed.y0 > 9 and trimmed.y0 <= 16 - 1 and trimmed.y1 >= 30


def test_given_an_accent_one_row_above_then_it_stays_inside() -> None:
    grey = _page_with_rows([range(10, 12), range(13, 28)])
    trimmed = trimmed_to_ink(grey, Box(10, 6, 190, 32))
    assert trimmed.y0 <= 10


def test_given_a_busy_background_or_vertical_text_then_nothing_is_cut() -> None:
    rng = np.random.default_rng(0)
    busy = rng.integers(0, 255, (40, 200), dtype=np.uint8)
    box = Box(10, 4, 190, 34)
    assert trimmed_to_ink(busy, box) == box
    vertical = Box(10, 0, 30, 40)
    assert trimmed_to_ink(_page_with_rows([range(4, 9)]), vertical) == vertical


def test_given_a_kept_label_box_overlapping_the_value_then_the_value_starts_at_the_faint_row() -> (
    None
):
    grey = _page_with_rows([range(4, 12), range(13, 28)])  # label ink, one faint row, value
    label, value = Box(10, 2, 190, 15), Box(10, 10, 190, 30)  # OCR boxes share rows 10-14
    split = split_from_kept(grey, value, [label])
    assert split.y0 == 12 and split.y1 == value.y1


def test_given_a_pale_label_overlapping_the_value_then_the_split_is_at_the_gap_not_the_label() -> (
    None
):
    grey = _page_with_rows([range(13, 28)])  # the value, dark
    grey[4:12, 20:180:3] = 200  # a label printed pale: no pixel past INK_LEVELS
    label, value = Box(10, 2, 190, 15), Box(10, 10, 190, 30)  # OCR boxes share rows 10-14
    split = split_from_kept(grey, value, [label])
    assert split.y0 == 12 and split.y1 == value.y1  # the blank row, not the label's ink


def test_given_a_pale_label_below_and_a_word_reaching_down_beside_it_then_its_edge_is_filled() -> (
    None
):
    grey = _page_with_rows([range(12, 24)])  # the value, dark
    grey[24:28, 150:180:3] = 20  # a descender beside the label, past its top
    grey[29:36, 20:90:3] = 200  # a pale label below the value's left part
    label, value = Box(10, 26, 100, 38), Box(10, 10, 190, 30)
    split = split_from_kept(grey, value, [label])
    assert split.y1 >= 27 + INK_EDGE_PX + 1  # the descender and its glyph edge


def test_given_a_value_printed_too_pale_to_see_in_grey_then_a_label_box_does_not_split_it() -> None:
    # grey levels as measured on a red value printed on a blue card: the paper at 133,
    # the value's strokes 100-110 (no pixel past INK_LEVELS), one row of its glyphs
    # paler than the paper, which the pale-row rule would take for the gap
    grey = np.full((40, 200), 133, np.uint8)
    grey[2:10, 20:180:3] = 20  # the label above, dark
    grey[12, 20:180:3] = 110
    grey[13, 20:180] = 140
    grey[14:22, 20:180:3] = 100
    label, value = Box(10, 0, 190, 15), Box(10, 11, 190, 24)  # OCR boxes share rows 11-14
    assert split_from_kept(grey, value, [label]) == value


def test_given_no_overlapping_kept_box_then_the_value_is_not_split() -> None:
    grey = _page_with_rows([range(13, 28)])
    value = Box(10, 10, 190, 30)
    assert split_from_kept(grey, value, [Box(10, 0, 190, 9)]) == value


def test_given_a_line_box_that_begins_with_a_kept_label_then_the_label_is_cut_off() -> None:
    line = Box(40, 120, 300, 140)  # "NAME CRITTENDEN, LUCY" boxed whole by another rule
    label = Box(40, 121, 95, 139)
    assert beside_kept(line, [label]) == Box(95, 120, 300, 140)


def test_given_a_line_box_that_ends_with_a_kept_label_then_the_label_is_cut_off() -> None:
    line = Box(40, 120, 300, 140)
    label = Box(250, 122, 300, 139)
    assert beside_kept(line, [label]) == Box(40, 120, 250, 140)


def test_given_a_kept_box_in_the_middle_off_the_row_or_wider_then_nothing_is_cut() -> None:
    line = Box(40, 120, 300, 140)
    middle = Box(120, 120, 180, 140)
    above = Box(40, 100, 95, 126)  # the label above, its box reaching into the line's
    wider = Box(30, 118, 320, 142)
    assert beside_kept(line, [middle, above, wider]) == line

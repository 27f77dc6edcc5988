"""Ink OCR did not read inside a document: words are found, read lines and non-words are not."""

from __future__ import annotations

import cv2
import numpy as np

from redactor.documents.margins import Grey, margin_of
from redactor.documents.unread import unread_words
from redactor.geometry import Box

EXTENT = Box(0, 0, 600, 300)
TEXT_HEIGHT = 20.0


def page() -> Grey:
    return np.full((300, 600), 235, np.uint8)


def write(grey: Grey, text: str, x: int, y: int) -> Box:
    """``text`` printed with its baseline at ``y``; its box."""
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(grey, text, (x, y), font, scale, (30,), thickness, cv2.LINE_AA)
    return Box(x, y - h, x + w, y + base)


def touches(found: list[Box], box: Box) -> bool:
    return any(
        min(b.x1, box.x1) > max(b.x0, box.x0) and min(b.y1, box.y1) > max(b.y0, box.y0)
        for b in found
    )


def test_given_a_word_ocr_did_not_read_then_it_is_found_and_read_lines_are_not() -> None:
    grey = page()
    read = write(grey, "Nationality", 40, 60)
    unread = write(grey, "SVENSK", 40, 100)
    found = unread_words(grey, EXTENT, [read], TEXT_HEIGHT)
    assert touches(found, unread)
    assert not touches(found, read.padded(-2))
    (word,) = [b for b in found if touches([b], unread)]
    assert word.x0 <= unread.x0 and word.x1 >= unread.x1 - 2  # the whole word, not a letter


def test_given_a_one_letter_value_then_it_is_found() -> None:
    grey = page()
    letter = write(grey, "F", 300, 150)
    assert touches(unread_words(grey, EXTENT, [], TEXT_HEIGHT), letter)


def test_given_lines_of_small_print_a_pixel_apart_then_each_line_is_cut_out() -> None:
    grey = page()
    upper = write(grey, "DATE OF ISSUE", 40, 200)
    lower = write(grey, "12 AUG 2019", 40, 216)  # touching the line above
    found = unread_words(grey, EXTENT, [], TEXT_HEIGHT)
    assert touches(found, upper) and touches(found, lower)
    assert all(b.height <= 2 * TEXT_HEIGHT for b in found)


def test_given_no_word_then_rules_blocks_and_blank_paper_stay() -> None:
    grey = page()
    cv2.line(grey, (20, 250), (580, 250), (30,), 1)  # a rule: too flat
    cv2.rectangle(grey, (400, 20), (560, 200), (30,), -1)  # a filled block: too tall
    cv2.rectangle(grey, (100, 140), (120, 152), (30,), -1)  # a filled square: too dense
    assert unread_words(grey, EXTENT, [], TEXT_HEIGHT) == []


def test_given_tiny_text_then_nothing_is_looked_for() -> None:
    grey = page()
    write(grey, "SVENSK", 40, 100)
    assert unread_words(grey, EXTENT, [], 3.0) == []


def glyph(grey: Grey, x: int, y: int, w: int = 14, h: int = 20) -> Box:
    """A letter-like mark (a frame 3 px thick) at ``x, y``; its box."""
    cv2.rectangle(grey, (x, y), (x + w - 1, y + h - 1), (30,), 3)
    return Box(x, y, x + w, y + h)


def aitch(grey: Grey, x: int, y: int) -> None:
    """An "H" 14x20: two stems 3 px wide and a bar."""
    grey[y : y + 20, x : x + 3] = 30
    grey[y : y + 20, x + 11 : x + 14] = 30
    grey[y + 9 : y + 12, x : x + 14] = 30


def test_given_a_letter_poking_into_a_read_box_then_it_is_found_whole() -> None:
    grey = page()
    label = Box(40, 40, 200, 50)  # padded by a fifth of its height: to y=52
    letters = [glyph(grey, 60 + 20 * k, 46) for k in range(3)]  # top 6 of 20 rows inside
    found = unread_words(grey, EXTENT, [label], TEXT_HEIGHT)
    (word,) = found
    assert word.y0 <= letters[0].y0 and word.y1 >= letters[0].y1


def test_given_a_read_line_whose_box_cut_its_letters_short_then_the_rest_is_not_a_word() -> None:
    grey = page()
    line = Box(40, 42, 200, 60)  # padded to y=38..64: most of 34-row letters
    for k in range(3):
        glyph(grey, 60 + 20 * k, 40, h=34)
    assert unread_words(grey, EXTENT, [line], TEXT_HEIGHT) == []


def test_given_a_wide_mark_crossing_a_read_box_then_it_is_cut_at_the_box() -> None:
    grey = page()
    line = Box(40, 42, 200, 60)  # padded to y=38..64
    wide = glyph(grey, 60, 40, w=60, h=34)  # three text heights wide: not a letter
    found = unread_words(grey, EXTENT, [line], TEXT_HEIGHT)
    assert touches(found, Box(wide.x0, 64, wide.x1, wide.y1))
    assert all(b.y0 >= 60 for b in found)


def test_given_an_unread_letter_beside_a_kept_label_then_its_word_stops_at_the_label() -> None:
    grey = page()
    label = Box(40, 40, 140, 60)  # padded to x=36..144
    letter = glyph(grey, 138, 40)  # 6 of 14 columns inside: goes whole with the outside
    (free,) = unread_words(grey, EXTENT, [label], TEXT_HEIGHT)
    assert free.x0 < label.x1  # the letter and its pad reach into the label
    (word,) = unread_words(grey, EXTENT, [label], TEXT_HEIGHT, kept=[label])
    assert word.x1 >= letter.x1
    # the redacted region (the box and the redactor's margin) stays off the label's box
    assert word.x0 - margin_of(word) >= label.x1


def test_given_two_lines_joined_by_strokes_between_them_then_each_line_is_a_band() -> None:
    grey = page()
    for k in range(10):
        aitch(grey, 40 + 20 * k, 100)
        aitch(grey, 40 + 20 * k, 124)
    for k in range(8):  # about 24 px of ink in the gap rows: 0.4 of a text row's 60
        grey[120:124, 40 + 20 * k : 44 + 20 * k] = 30
    found = unread_words(grey, EXTENT, [], TEXT_HEIGHT)
    assert touches(found, Box(40, 100, 240, 118)) and touches(found, Box(40, 126, 240, 144))
    assert all(b.height <= 2 * TEXT_HEIGHT for b in found)


def test_given_a_letter_printed_right_after_a_read_line_then_it_is_found() -> None:
    grey = page()
    line = Box(40, 40, 140, 60)  # its padding (4 px) would hold most of the letter
    grey[40:60, 140:143] = 30  # an "L" starting where the box ends: a one-letter value
    grey[57:60, 140:148] = 30
    found = unread_words(grey, EXTENT, [line], TEXT_HEIGHT)
    assert touches(found, Box(140, 40, 148, 60))

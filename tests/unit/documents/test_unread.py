"""Ink OCR did not read inside a document: words are found, read lines and non-words are not."""

from __future__ import annotations

import cv2
import numpy as np

from redactor.documents.margins import Grey
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

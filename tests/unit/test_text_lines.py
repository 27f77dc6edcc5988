"""Line reconstruction from engine runs, word boxes cut from quads, and engine adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from redactor.geometry import Box
from redactor.text.blocks import group_blocks
from redactor.text.engines import easy, rapid
from redactor.text.engines.layout import char_ranges, line_from_quad, tile
from redactor.text.lines import build_lines
from redactor.text.ocr import MalformedOcrOutput, OcrLine


def run(text: str, x0: float, y0: float, height: float = 20.0, char_width: float = 10.0) -> OcrLine:
    """An upright engine run whose characters are ``char_width`` wide."""
    x1 = x0 + char_width * len(text)
    quad = ((x0, y0), (x1, y0), (x1, y0 + height), (x0, y0 + height))
    return line_from_quad(text, quad, 0.9)


def test_given_words_then_boxes_tile_the_run_by_character_position() -> None:
    line = run("Tel 12", 0, 0)
    assert [w.text for w in line.words] == ["Tel", "12"]
    # Cells meet halfway across the gap, and together cover the whole run.
    edges = [edge for w in line.words for edge in (w.box.x0, w.box.x1)]
    assert edges == pytest.approx([0, 35, 35, 60])


def test_given_a_tilted_run_then_word_boxes_follow_the_tilt() -> None:
    quad = ((0.0, 0.0), (200.0, 10.0), (199.0, 30.0), (-1.0, 20.0))
    left, right = line_from_quad("aaaa bbbb", quad, 1.0).words
    assert left.box.y0 < right.box.y0
    assert left.box.x1 >= right.box.x0  # no gap between neighbouring word boxes


def test_tile_and_char_ranges() -> None:
    assert tile([(0.1, 0.3), (0.5, 0.8)]) == [(0.0, 0.4), (0.4, 1.0)]
    assert char_ranges(" ab  c") == [("ab", 1 / 6, 3 / 6), ("c", 5 / 6, 1.0)]


def test_given_runs_split_on_one_line_then_they_are_joined_left_to_right() -> None:
    runs = [run("doe@example.com", 205, 101), run("Mail: jane.", 80, 100)]
    (line,) = build_lines(runs)
    assert line.text == "Mail: jane. doe@example.com"


def test_given_a_wide_gap_then_columns_stay_apart() -> None:
    lines = build_lines([run("Name", 0, 0), run("SELF", 200, 0)])
    assert [line.text for line in lines] == ["Name", "SELF"]


def test_given_a_headline_beside_small_print_then_they_stay_apart() -> None:
    lines = build_lines([run("BIG", 0, 0, height=60, char_width=30), run("small", 95, 30)])
    assert len(lines) == 2


def test_given_stacked_runs_then_lines_come_top_to_bottom() -> None:
    lines = build_lines([run("second", 0, 30), run("first", 0, 0), run("third", 0, 60)])
    assert [line.text for line in lines] == ["first", "second", "third"]


def test_given_a_span_then_its_box_is_the_union_of_its_whole_words() -> None:
    (line,) = build_lines([run("Tel: +44 20 7946 0958", 0, 0)])
    start = line.text.index("+44")
    box = line.box_of(start + 1, len(line.text))  # from inside "+44" to the end
    assert box.x0 == line.words[1].box.x0
    assert box.x1 == line.box.x1
    assert line.words_in(0, 3) == (line.words[0],)
    assert line.confidence_of(0, len(line.text)) == pytest.approx(0.9)


def test_given_a_label_then_its_lines_form_one_block_apart_from_far_text() -> None:
    label = [run("Jane Doe", 10, 10), run("1 Main Street", 10, 34), run("Springfield", 10, 58)]
    lines = build_lines([*label, run("ORGANIC COFFEE", 600, 400, height=40, char_width=20)])
    blocks = sorted(sorted(lines[i].text for i in block) for block in group_blocks(lines))
    assert blocks == [["1 Main Street", "Jane Doe", "Springfield"], ["ORGANIC COFFEE"]]


@dataclass
class FakeRapidOutput:
    """The attributes of ``RapidOCROutput`` the adapter reads."""

    boxes: Any
    txts: Any
    scores: Any
    word_results: Any = ()


QUAD = [[0, 0], [100, 0], [100, 20], [0, 20]]


def test_rapid_adapter_uses_word_positions_when_they_spell_the_line() -> None:
    words = (
        ("Tel", 0.99, [[0, 0], [28, 0], [28, 20], [0, 20]]),
        ("123", 0.8, [[40, 0], [100, 0], [100, 20], [40, 20]]),
    )
    (line,) = rapid.parse_output(FakeRapidOutput(np.array([QUAD]), ("Tel 123",), (0.9,), (words,)))
    assert [(w.text, w.box.x0, w.box.x1, w.confidence) for w in line.words] == [
        ("Tel", 0.0, 34.0, 0.99),
        ("123", 34.0, 100.0, 0.8),
    ]


def test_rapid_adapter_falls_back_to_character_positions() -> None:
    (line,) = rapid.parse_output(FakeRapidOutput([QUAD], ("ab cd",), (0.9,), ()))
    assert [w.text for w in line.words] == ["ab", "cd"]


@pytest.mark.parametrize(
    "output",
    [
        FakeRapidOutput([QUAD], ("a", "b"), (0.9,)),  # lengths differ
        FakeRapidOutput([[[0, 0], [1, 1]]], ("a",), (0.9,)),  # two points
        FakeRapidOutput([QUAD], ("a",), (1.7,)),  # score out of range
        FakeRapidOutput([QUAD], (7,), (0.9,)),  # text not a string
        FakeRapidOutput([[[0, 0], [1, 0], [1, float("nan")], [0, 1]]], ("a",), (0.9,)),
    ],
)
def test_rapid_adapter_rejects_malformed_output(output: FakeRapidOutput) -> None:
    with pytest.raises(MalformedOcrOutput):
        rapid.parse_output(output)


def test_rapid_adapter_reads_an_empty_result_as_no_lines() -> None:
    assert rapid.parse_output(FakeRapidOutput(None, None, None)) == []


def test_easy_adapter_reads_box_text_confidence_triples() -> None:
    (line,) = easy.parse_output([(QUAD, "Jane  Doe", np.float64(0.7))])
    assert line.text == "Jane Doe"
    assert line.box == Box(0, 0, 100, 20)
    assert [w.text for w in line.words] == ["Jane", "Doe"]


@pytest.mark.parametrize("output", [None, [("x",)], [(QUAD, b"bytes", 0.5)], [(QUAD, "a", "high")]])
def test_easy_adapter_rejects_malformed_output(output: Any) -> None:
    with pytest.raises(MalformedOcrOutput):
        easy.parse_output(output)


@pytest.mark.parametrize(
    ("shape", "padded"), [((5, 300), (100, 300)), ((300, 5), (300, 100)), ((50, 60), (50, 60))]
)
def test_thin_strips_are_padded_for_the_rapidocr_detector(
    shape: tuple[int, int], padded: tuple[int, int]
) -> None:
    image = np.full((*shape, 3), 7, np.uint8)
    out = rapid.padded_to_aspect(image)
    assert out.shape[:2] == padded
    assert (out[: shape[0], : shape[1]] == image).all()  # pixels stay where they were

import numpy as np
import pytest

from redactor.faces.boxes import suppressed
from redactor.geometry import Box, centre_within, iou, merge_overlapping, overlap_of_smaller, within


@pytest.mark.parametrize(
    ("box", "factor", "expected"),
    [
        (Box(10, 10, 20, 20), 1.0, Box(10, 10, 20, 20)),
        (Box(10, 10, 20, 20), 2.0, Box(5, 5, 25, 25)),
        (Box(0, 0, 10, 4), 1.5, Box(-2.5, -1, 12.5, 5)),
    ],
)
def test_scaled_about_center_keeps_the_centre(box: Box, factor: float, expected: Box) -> None:
    assert box.scaled_about_center(factor) == expected


def test_clipped_keeps_boxes_inside_the_image() -> None:
    assert Box(-5, -5, 15, 30).clipped(10, 20) == Box(0, 0, 10, 20)
    assert Box(12, 12, 15, 15).clipped(10, 10).area == 0


def test_to_int_contains_the_box() -> None:
    assert Box(1.2, 2.7, 3.1, 4.0).to_int() == (1, 2, 4, 4)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Box(0, 0, 10, 10), Box(0, 0, 10, 10), 1.0),
        (Box(0, 0, 10, 10), Box(10, 10, 20, 20), 0.0),
        (Box(0, 0, 10, 10), Box(5, 0, 15, 10), 50 / 150),
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)


def test_overlap_of_smaller_is_one_for_containment() -> None:
    assert overlap_of_smaller(Box(0, 0, 100, 100), Box(10, 10, 20, 20)) == 1.0


def test_merge_unions_a_face_cut_at_a_tile_edge_with_the_whole_face() -> None:
    whole, half = Box(100, 100, 160, 170), Box(100, 100, 130, 170)
    merged = merge_overlapping([half, whole], [0.9, 0.6], threshold=0.6)
    assert merged == [(Box(100, 100, 160, 170), 0.9)]


def test_merge_keeps_neighbouring_faces_apart() -> None:
    left, right = Box(0, 0, 50, 50), Box(40, 0, 90, 50)
    assert len(merge_overlapping([left, right], [0.8, 0.7], threshold=0.6)) == 2


def test_suppression_keeps_best_of_duplicates() -> None:
    boxes = np.asarray([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]], np.float32)
    scores = np.asarray([0.5, 0.9, 0.7], np.float32)
    assert suppressed(boxes, scores, threshold=0.5) == [1, 2]


def test_within_needs_the_whole_box_and_centre_within_only_its_centre() -> None:
    outer = Box(0, 0, 100, 50)
    straddling = Box(80, 10, 120, 20)  # centre (100, 15): on the edge
    assert within(outer, Box(0, 0, 100, 50)) and within(outer, Box(10, 10, 20, 20))
    assert not within(outer, straddling)
    assert centre_within(outer, straddling)
    assert not centre_within(outer, Box(90, 10, 130, 20))  # centre (110, 15)

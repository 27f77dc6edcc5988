"""Document extents cut to the card's edge."""

from __future__ import annotations

from redactor.documents.extent import _bounded, _card_at
from redactor.geometry import Box

EXTENT = Box(0, 170, 290, 380)  # a card's page placed from its MRZ, with a margin
ZONE = Box(18, 315, 270, 360)
CARD = Box(4, 199, 283, 377)
MRZ_WINDOW = Box(6, 301, 280, 374)  # a frame printed around the zone
TABLE = Box(0, 0, 1200, 900)


def test_given_the_card_and_a_frame_around_the_mrz_then_the_card_bounds_the_extent() -> None:
    assert _bounded(EXTENT, ZONE, [MRZ_WINDOW, CARD, TABLE]) == Box(4, 199, 283, 377)


def test_given_only_the_table_then_the_extent_stays() -> None:
    assert _bounded(EXTENT, ZONE, [TABLE]) == EXTENT


def test_given_no_edge_then_the_extent_stays() -> None:
    assert _bounded(EXTENT, ZONE, []) == EXTENT


#: A card's back (MRZ side) and, below it with a gap, its front, as specimens show them.
BACK = Box(4, 1, 341, 216)
FRONT = Box(2, 254, 344, 457)


def test_given_the_other_side_shown_with_a_gap_then_it_is_the_card_edge_there() -> None:
    placed = BACK.shifted(0, BACK.height)  # the side right below, without the gap
    assert _card_at(placed, BACK, [Box(261, 254, 329, 334), FRONT, TABLE]) == FRONT


def test_given_no_card_sized_edge_there_then_the_other_side_stays_where_placed() -> None:
    placed = BACK.shifted(0, BACK.height)
    assert _card_at(placed, BACK, [Box(261, 254, 329, 334), TABLE]) is None

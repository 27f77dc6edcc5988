"""MRZ lines in OCR output: the ICAO 9303 specimen zones, clean and as OCR garbles them."""

from __future__ import annotations

import pytest

from redactor.documents.mrz import check_digit, checked_fields, find_zones, normalised
from redactor.text.lines import TextLine, build_lines
from tests.unit.test_text_lines import run

#: The specimen zones of ICAO Doc 9303 (parts 4 to 7): invented holder, valid check digits.
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
MRV_A = (
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
)
MRV_B = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<")
ZONES = [("TD1", TD1), ("TD2", TD2), ("TD3", TD3), ("MRV-A", MRV_A), ("MRV-B", MRV_B)]


def zone_lines(rows: tuple[str, ...], x: float = 40, y: float = 500) -> list[TextLine]:
    """The rows printed as OCR-B: 12 px per character, 30 px lines on a 44 px pitch."""
    return build_lines([run(row, x, y + 44 * k, 30, 12) for k, row in enumerate(rows)])


def test_check_digits_follow_the_7_3_1_rule() -> None:
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == 2
    assert check_digit("120415") == 9
    assert check_digit("D23145890") == 7
    assert checked_fields(TD3[1]) == 3
    assert checked_fields(TD1[1]) == 2


@pytest.mark.parametrize(("fmt", "rows"), ZONES)
def test_given_a_clean_zone_then_its_format_is_known_and_the_check_digits_confirm_it(
    fmt: str, rows: tuple[str, ...]
) -> None:
    (zone,) = find_zones(zone_lines(rows))
    assert zone.format == fmt
    assert len(zone.line_boxes) == len(rows)
    assert zone.checked


def _garble(row: str, how: str) -> str:
    if how == "filler-as-K":
        return row.replace("<<<", "KKK")
    if how == "filler-as-guillemet":
        return row.replace("<", "«")
    if how == "filler-as-paren-and-c":
        return row.replace("<<", "(c")
    if how == "letter-digit-swaps":
        return row.translate(str.maketrans("0O1I5S8B", "O0I1S5B8"))
    if how == "spaces-inside":
        return " ".join(row[i : i + 7] for i in range(0, len(row), 7))
    if how == "fillers-dropped":
        return row.rstrip("<") + "<<"
    raise ValueError(how)


NOISE = [
    "filler-as-K",
    "filler-as-guillemet",
    "filler-as-paren-and-c",
    "letter-digit-swaps",
    "spaces-inside",
    "fillers-dropped",
]


@pytest.mark.parametrize("how", NOISE)
@pytest.mark.parametrize(("fmt", "rows"), ZONES)
def test_given_ocr_noise_then_every_line_of_the_zone_is_still_found(
    fmt: str, rows: tuple[str, ...], how: str
) -> None:
    lines = zone_lines(tuple(_garble(r, how) for r in rows))
    (zone,) = find_zones(lines)
    assert len(zone.line_boxes) == len(rows)
    covered = zone.box
    for line in lines:
        assert covered.x0 <= line.box.x0 + 1 and line.box.x1 <= covered.x1 + 13 * 2
        assert covered.y0 <= line.box.center[1] <= covered.y1


def test_given_a_line_split_into_boxes_then_it_is_one_mrz_line() -> None:
    first, second = TD3
    runs = [run(first[:20], 40, 500, 30, 12), run(first[20:], 40 + 12 * 21, 500, 30, 12)]
    runs.append(run(second, 40, 544, 30, 12))
    (zone,) = find_zones(build_lines(runs))
    assert zone.format == "TD3" and len(zone.lines) == 2
    assert zone.box.x1 >= 40 + 12 * 44


def test_given_a_line_merged_with_a_signature_then_only_the_mrz_words_count() -> None:
    lines = zone_lines(TD1[:2]) + build_lines([run("Ulilica Jest " + TD1[2], -116, 588, 30, 12)])
    (zone,) = find_zones(lines)
    assert len(zone.lines) == 3
    assert zone.lines[2].text == TD1[2]


@pytest.mark.parametrize(("fmt", "rows", "kept"), [("TD3", TD3, 1), ("TD1", TD1, 1)])
def test_given_only_the_data_line_read_then_the_missing_lines_are_placed_around_it(
    fmt: str, rows: tuple[str, ...], kept: int
) -> None:
    line = build_lines([run(rows[kept], 40, 544, 30, 12)])
    (zone,) = find_zones(line)
    assert zone.format == fmt
    assert len(zone.line_boxes) == len(rows)
    assert zone.box.y0 < 544 - 30  # the line above is redacted too


@pytest.mark.parametrize(("fmt", "rows"), ZONES)
def test_given_a_line_read_upside_down_then_it_is_still_a_line_of_the_zone(
    fmt: str, rows: tuple[str, ...]
) -> None:
    # OCR's angle classifier turns a line by 180 degrees: characters reversed, fillers
    # read as ">". Without it, one line is read and the missing ones are guessed.
    flipped = (*rows[:-1], rows[-1][::-1].replace("<", ">"))
    (zone,) = find_zones(zone_lines(flipped))
    assert zone.format == fmt
    assert len(zone.lines) == len(rows)


def test_given_a_cut_line_then_it_still_counts() -> None:
    (zone,) = find_zones(zone_lines((TD3[0][:30], TD3[1])))
    assert len(zone.lines) == 2


def test_given_a_bad_check_digit_then_the_zone_is_found_but_not_confirmed() -> None:
    bad = TD3[1][:9] + "0" + TD3[1][10:19] + "0" + TD3[1][20:27] + "0" + TD3[1][28:]
    (zone,) = find_zones(zone_lines((TD3[0], bad)))
    assert not zone.checked and len(zone.line_boxes) == 2


NOT_MRZ = [
    "ORGANIC COFFEE ROASTED IN SMALL BATCHES",
    "1Z 999 AA1 01 2345 6784",
    "INGREDIENTS: OATS, SUGAR, BUTTER, SALT",
    "4006381333931",
    "LOT 2024-05-12 EXP 2026-05-12 BATCH 77",
    "https://example.com/products/coffee-beans-250g",
    "NET WT 250G / 8.8 OZ - BEST BEFORE 12 2026",
]


@pytest.mark.parametrize("text", NOT_MRZ)
def test_given_packaging_text_then_no_zone_is_found(text: str) -> None:
    lines = build_lines([run(text, 40, 500, 30, 12), run(text.lower(), 40, 544, 30, 12)])
    assert find_zones(lines) == []


def test_normalised_maps_filler_lookalikes_and_drops_spaces() -> None:
    assert normalised("P«UTO ERIKSSON KKK") == "P<UTOERIKSSON<<<"

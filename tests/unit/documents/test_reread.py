"""Document mode's re-read: a document's extent read again, larger, merged fail closed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from redactor.documents.reread import (
    SMALL_TEXT_PX,
    EngineExtentReader,
    merged,
)
from redactor.documents.review import DocumentReviewer
from redactor.errors import DetectionError
from redactor.findings import DOCUMENT, RGBImage
from redactor.geometry import Box
from redactor.pii.policy import Policy
from redactor.text.lines import TextLine, build_lines
from redactor.text.ocr import OcrLine, TextMap
from redactor.text.reading import read_enlarged
from tests.unit.documents.test_mrz import TD3
from tests.unit.documents.test_review import IMAGE, KEY, PAGE, covered_texts, page_lines
from tests.unit.test_text_detector import FakeEngine
from tests.unit.test_text_lines import run

#: What a larger reading finds where the passport page has "Surname / Nom" over its
#: value "ERIKSSON"...
SPLIT = [("Surname / Nom", 360, 100, 14), ("ERIKSSON", 360, 118, 22)]


def merged_page() -> list[TextLine]:
    """...and the page as a small-scale reading gives it: the small label stacked over
    the large value read as one garbled word in one box over both rows."""
    rows = [(t, x, y, h) for t, x, y, h in PAGE if t not in ("Surname / Nom", "ERIKSSON")]
    runs = [run(text, x, y, h, 0.55 * h) for text, x, y, h in rows]
    runs.append(run("SumameERIKSSON", 360, 100, 40, 7.0))
    runs += [run(row, 40, 560 + 40 * k, 26, 21) for k, row in enumerate(TD3)]
    return build_lines(runs)


def lines_of(rows: list[tuple[str, int, int, int]]) -> list[TextLine]:
    return build_lines([run(text, x, y, h, 0.55 * h) for text, x, y, h in rows])


@dataclass
class FakeReader:
    """Returns fixed lines for any extent (or raises), and counts its calls."""

    lines: list[TextLine] | None
    error: Exception | None = None
    calls: list[float] = field(default_factory=list)

    def read(self, image: RGBImage, extent: Box, text_height: float) -> list[TextLine] | None:
        self.calls.append(text_height)
        if self.error is not None:
            raise self.error
        return self.lines


def reviewed_with(reader: FakeReader | None, lines: list[TextLine]) -> list:  # type: ignore[type-arg]
    reviewer = DocumentReviewer(Policy.build("pii"), KEY, reader=reader)
    return list(reviewer.review(IMAGE, [], lines))


def boxes_covering(findings: list, box: Box) -> bool:  # type: ignore[type-arg]
    cx, cy = box.center
    return any(
        f.kind != DOCUMENT and f.box.x0 <= cx <= f.box.x1 and f.box.y0 <= cy <= f.box.y1
        for f in findings
    )


def test_given_a_label_merged_with_its_value_then_the_reread_keeps_it_and_redacts_the_value() -> (
    None
):
    first = merged_page()
    without = reviewed_with(None, first)
    assert "SumameERIKSSON" in covered_texts(first, without)  # the label goes with the value
    again = lines_of(SPLIT)
    findings = reviewed_with(FakeReader(again), first)
    covered = covered_texts(again, findings)
    assert "ERIKSSON" in covered
    assert not {"Surname", "Nom"} & covered


def test_given_a_reread_that_misses_the_value_then_the_first_reading_stands() -> None:
    first = merged_page()
    merged_box = next(line.box for line in first if line.text == "SumameERIKSSON")
    findings = reviewed_with(FakeReader(lines_of(SPLIT[:1])), first)
    # the merged line did not give way: its whole box, label included, is redacted
    assert boxes_covering(findings, merged_box)
    label = lines_of(SPLIT[:1])[0]
    assert "Surname" in covered_texts([label], findings)


def test_given_a_reader_that_fails_then_review_fails() -> None:
    reader = FakeReader(None, DetectionError("OCR engine 'fake' failed (RuntimeError)"))
    with pytest.raises(DetectionError):
        reviewed_with(reader, page_lines())


def test_given_no_document_then_nothing_is_read_again() -> None:
    reader = FakeReader([])
    lines = lines_of([("Organic Coffee", 40, 40, 30), ("Net weight 250 g", 40, 90, 20)])
    assert reviewed_with(reader, lines) == []
    assert reader.calls == []


def test_given_a_reader_that_declines_then_findings_are_the_first_readings() -> None:
    first = page_lines()
    assert reviewed_with(FakeReader(None), first) == reviewed_with(None, first)


def inked(boxes: list[Box], size: tuple[int, int] = (400, 600)) -> np.ndarray:
    grey = np.full(size, 230, np.uint8)
    for b in boxes:
        x0, y0, x1, y1 = b.to_int()
        grey[y0:y1, x0:x1] = 20
    return grey


EXTENT = Box(0, 0, 600, 400)


def test_merged_replaces_a_line_whose_ink_the_reread_covers_and_keeps_the_rest() -> None:
    first = build_lines([run("SumameERIKSSON", 100, 100, 40, 7.0), run("12 AUG 1974", 100, 200)])
    again = lines_of([("Surname / Nom", 100, 100, 14), ("ERIKSSON", 100, 118, 22)])
    grey = inked([b for line in first for b in (w.box.padded(-3) for w in line.words)])
    staying, joining = merged(grey, first, again, EXTENT, set())
    assert [first[i].text for i in staying] == ["12 AUG 1974"]
    assert [line.text for line in joining] == ["Surname / Nom", "ERIKSSON"]


def test_merged_keeps_fixed_lines_and_lines_outside_the_extent_and_joins_only_rereads_inside() -> (
    None
):
    first = lines_of([("P<UTOERIKSSON<<ANNA", 20, 300, 24), ("Outside", 700, 20, 20)])
    again = lines_of([("P<UTOERIKSSON<<ANNA", 20, 300, 24), ("Margin", 610, 20, 20)])
    grey = inked([first[0].box.padded(-2)], (400, 900))
    mrz = next(i for i, line in enumerate(first) if line.text.startswith("P<"))
    staying, joining = merged(grey, first, again, EXTENT, {mrz})
    assert sorted(staying) == [0, 1]
    assert [line.text for line in joining] == ["P<UTOERIKSSON<<ANNA"]


def test_given_a_reread_line_inside_a_line_that_stays_then_both_are_there() -> None:
    # a large watermark line the re-read did not reproduce, and a date under it that it
    # did: the date's re-read joins even though its centre lies in the watermark's box
    first = build_lines([run("SPECIMEN BAT", 100, 80, 60, 30.0), run("07/01/2014", 100, 70, 20)])
    again = lines_of([("07/01/2014", 100, 70, 20)])
    grey = inked([line.box.padded(-2) for line in first])
    staying, joining = merged(grey, first, again, EXTENT, set())
    assert [first[i].text for i in staying] == ["SPECIMEN BAT"]
    assert [line.text for line in joining] == ["07/01/2014"]


@dataclass
class ScalingEngine(FakeEngine):
    """A fake engine that detects at the size it is given, like RapidOCR within bounds."""

    def detection_scale(self, frame: tuple[int, int]) -> float:
        return 1.0

    def propose(self, image: RGBImage, *, scale: float) -> TextMap:
        raise NotImplementedError


def test_given_small_text_then_the_extent_is_enlarged_to_the_target_and_lines_map_back() -> None:
    image = np.zeros((1200, 1600, 3), np.uint8)
    extent = Box(100, 200, 500, 450)
    engine = ScalingEngine(output=[run("Surname", 36, 72, 36, 20)])
    reader = EngineExtentReader(engine)
    lines = reader.read(image, extent, 9.0)
    assert lines is not None
    height, width = engine.seen[0][:2]
    # the crop (the extent and a margin of one text height) enlarged four times
    assert (width, height) == (4 * 418, 4 * 268)
    assert lines[0].box.x0 == pytest.approx(91 + 36 / 4)
    assert lines[0].box.y0 == pytest.approx(191 + 72 / 4)
    assert lines[0].height == pytest.approx(9.0)


def test_given_text_already_large_then_there_is_no_reread() -> None:
    engine = ScalingEngine()
    reader = EngineExtentReader(engine)
    image = np.zeros((800, 1000, 3), np.uint8)
    assert reader.read(image, Box(0, 0, 1000, 800), SMALL_TEXT_PX) is None
    assert engine.seen == []


def test_given_a_large_extent_then_the_enlarged_crop_is_bounded() -> None:
    reader = EngineExtentReader(ScalingEngine(), max_side=3000)
    # 4 px text wants nine times; the crop's 1000 px side may grow three times
    assert reader.scale((3000, 4000), Box(0, 0, 1000, 500), 4.0) == pytest.approx(3.0)


def test_read_enlarged_maps_engine_lines_back_to_the_image() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    engine = FakeEngine(output=[OcrLine("ab", Box(20, 40, 60, 80), 0.9, ())])
    lines = read_enlarged(engine, image, Box(50, 10, 150, 60), 2.0)
    assert engine.seen[0][:2] == (100, 200)
    assert lines[0].box == Box(60, 30, 80, 50)

"""Two-scale text detection with a fake engine: where it reads, and when it falls back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from redactor.errors import DetectionError
from redactor.findings import RGBImage
from redactor.geometry import Box, intersection
from redactor.options import PipelineOptions
from redactor.text.builders import build_text_detectors
from redactor.text.detector import TextDetector
from redactor.text.ocr import OcrLine, TextMap, TextProposer
from redactor.text.reading import (
    MAX_PROPOSED_REGIONS,
    PROPOSAL_SIDE,
    REGION_MIN_SIDE,
    read_text,
    reading_plan,
)
from tests.unit.test_text_detector import RECOGNIZERS, textured
from tests.unit.test_text_lines import run

#: The full detector's canvas (px per image px): as RapidOCR's at 1280 for 1600 px.
FULL_SCALE = 0.8


@dataclass
class FakeProposer:
    """An engine whose first pass sees text in ``hot`` (boxes in image pixels)."""

    hot: Sequence[Box] = ()
    output: Any = ()
    full_scale: float = FULL_SCALE
    map_value: float = 0.9
    error: Exception | None = None
    seen: list[tuple[int, ...]] = field(default_factory=list)
    proposed: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    name: str = "fake"
    version: str = "fake@1.0"

    def read(self, image: RGBImage, *, frame: tuple[int, int] | None = None) -> Sequence[OcrLine]:
        self.seen.append(image.shape)
        return self.output  # type: ignore[no-any-return]

    def detection_scale(self, frame: tuple[int, int]) -> float:
        return self.full_scale

    def propose(self, image: RGBImage, *, scale: float) -> TextMap:
        """The map of the whole image (this fake is only given whole images)."""
        self.proposed.append((image.shape, scale))
        if self.error is not None:
            raise self.error
        height, width = image.shape[:2]
        size = (round(height * scale), round(width * scale))
        probability = np.zeros(size, np.float32)
        for box in self.hot:
            x0, y0, x1, y1 = box.times(scale).to_int()
            probability[y0:y1, x0:x1] = self.map_value
        return TextMap(probability, (width / size[1], height / size[0]))


IMAGE = textured(1200, 1600)


def test_the_rapidocr_engine_is_a_proposer_and_a_plain_engine_is_not() -> None:
    from redactor.text.engines.rapid import RapidOcrEngine

    assert isinstance(FakeProposer(), TextProposer)
    assert "propose" in RapidOcrEngine.__dict__ and "detection_scale" in RapidOcrEngine.__dict__

    class Plain:
        name, version = "plain", "plain@1"

        def read(self, image: RGBImage, *, frame: tuple[int, int] | None = None) -> Any:
            return []

    assert not isinstance(Plain(), TextProposer)
    assert reading_plan(Plain(), IMAGE, two_scale=True).areas == [Box(0, 0, 1600, 1200)]


def test_given_sparse_text_then_only_padded_regions_around_it_are_read() -> None:
    line, far = Box(100, 100, 400, 130), Box(1300, 1100, 1500, 1115)
    engine = FakeProposer([line, far])
    plan = reading_plan(engine, IMAGE, two_scale=True)
    assert plan.proposed
    ((shape, scale),) = engine.proposed
    assert shape == IMAGE.shape and scale == PROPOSAL_SIDE / 1600
    assert len(plan.areas) == 2
    for text in (line, far):
        (holder,) = [a for a in plan.areas if intersection(a, text) == text.area]
        # At least the margin around it (32 canvas px is 40 image px), within bounds.
        assert holder.x0 <= max(0, text.x0 - 40) and holder.y0 <= max(0, text.y0 - 40)
        assert holder.x1 >= min(1600, text.x1 + 40) and holder.y1 >= min(1200, text.y1 + 40)
        assert min(holder.width, holder.height) >= REGION_MIN_SIDE
    assert sum(a.area for a in plan.areas) < 0.1 * 1600 * 1200


def test_given_a_line_found_in_a_region_then_it_comes_back_in_image_coordinates() -> None:
    engine = FakeProposer([Box(1300, 1100, 1500, 1115)], output=[run("jane@example.com", 30, 40)])
    (line,) = read_text(engine, IMAGE, two_scale=True)
    (area,) = reading_plan(engine, IMAGE, two_scale=True).areas
    assert (line.box.x0, line.box.y0) == (area.x0 + 30, area.y0 + 40)
    assert engine.seen == [(int(area.height), int(area.width), 3)]


def test_given_text_over_most_of_the_image_then_it_is_read_whole() -> None:
    engine = FakeProposer([Box(0, 0, 1600, 700)])
    plan = reading_plan(engine, IMAGE, two_scale=True)
    assert not plan.proposed and plan.areas == [Box(0, 0, 1600, 1200)]


def test_given_too_many_separate_text_spots_then_it_is_read_whole() -> None:
    spots = [
        Box(60 + 180 * i, 60 + 280 * j, 80 + 180 * i, 70 + 280 * j)
        for i in range(8)
        for j in range(4)
    ]
    assert len(spots) > MAX_PROPOSED_REGIONS
    plan = reading_plan(FakeProposer(spots), IMAGE, two_scale=True)
    assert not plan.proposed and plan.areas == [Box(0, 0, 1600, 1200)]


def test_given_an_image_whose_full_canvas_is_small_then_no_first_pass_is_made() -> None:
    engine = FakeProposer([Box(10, 10, 50, 20)])
    small = textured(600, 800)  # a 640 px canvas is most of what full detection costs
    plan = reading_plan(engine, small, two_scale=True)
    assert not plan.proposed and engine.proposed == []


def test_given_no_text_seen_then_nothing_is_read() -> None:
    engine = FakeProposer([])
    assert read_text(engine, IMAGE, two_scale=True) == []
    assert engine.seen == []


def test_given_faint_text_on_the_small_canvas_then_it_is_still_proposed() -> None:
    """Probabilities well under the detector's own binarisation (0.3) still count."""
    plan = reading_plan(
        FakeProposer([Box(700, 500, 900, 512)], map_value=0.05), IMAGE, two_scale=True
    )
    assert plan.proposed and len(plan.areas) == 1


def _on_backdrop(patch: Box) -> RGBImage:
    rng = np.random.default_rng(5)
    image = (250 + rng.integers(-3, 4, (1200, 1600, 3))).astype(np.uint8)
    x0, y0, x1, y1 = patch.to_int()
    image[y0:y1, x0:x1] = textured(y1 - y0, x1 - x0)
    return image


def test_given_detail_in_a_small_part_then_it_is_read_whole_without_a_first_pass() -> None:
    engine = FakeProposer([Box(400, 300, 600, 320)])
    plan = reading_plan(engine, _on_backdrop(Box(300, 200, 1100, 700)), two_scale=True)
    assert not plan.proposed and engine.proposed == []
    (area,) = plan.areas
    assert area.area < 0.3 * 1600 * 1200


def test_given_text_proposed_on_a_flat_backdrop_then_only_its_detail_area_is_read() -> None:
    """The first pass sees the whole image; what it proposes outside the regions with
    detail is still skipped, and a proposal crossing a region's edge is cut there."""
    patch = Box(100, 100, 1400, 900)
    inside, outside, crossing = (
        Box(300, 300, 500, 320),
        Box(200, 1100, 400, 1120),
        Box(1300, 500, 1550, 520),
    )
    engine = FakeProposer([inside, outside, crossing])
    plan = reading_plan(engine, _on_backdrop(patch), two_scale=True)
    ((shape, _),) = engine.proposed
    assert plan.proposed and shape == (1200, 1600, 3)
    assert len(plan.areas) == 2
    assert all(a.y1 < 1000 for a in plan.areas)  # nothing near the line on the backdrop
    assert max(a.x1 for a in plan.areas) < 1450  # the crossing line cut at the detail's edge


@pytest.mark.parametrize("error", [RuntimeError("jane@example.com is not a map"), MemoryError()])
def test_given_a_first_pass_that_fails_then_detection_fails_closed_without_the_text(
    error: Exception,
) -> None:
    engine = FakeProposer(error=error)
    with pytest.raises(DetectionError) as raised:
        TextDetector(engine, "pii", recognizers=RECOGNIZERS, two_scale=True).detect(IMAGE)
    assert "jane" not in str(raised.value)


def test_given_a_malformed_map_then_detection_fails_closed() -> None:
    engine = FakeProposer([Box(100, 100, 200, 120)], map_value=float("nan"))
    with pytest.raises(DetectionError, match="malformed text map"):
        read_text(engine, IMAGE, two_scale=True)


def test_without_two_scale_the_first_pass_is_never_made() -> None:
    engine = FakeProposer([Box(100, 100, 200, 120)])
    read_text(engine, IMAGE)
    assert engine.proposed == [] and engine.seen == [(1200, 1600, 3)]


def test_the_option_reaches_the_text_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("redactor.text.builders.shared_engine", lambda *_: FakeProposer())
    on = build_text_detectors(PipelineOptions(codes=False))[0]
    off = build_text_detectors(PipelineOptions(codes=False, ocr_two_scale=False))[0]
    assert on._two_scale and not off._two_scale  # type: ignore[attr-defined]

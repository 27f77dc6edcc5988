"""The text detector with a hand-written fake engine: policies, boxes, blocks, failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from redactor.errors import ConfigError, DetectionError
from redactor.findings import RGBImage
from redactor.geometry import Box
from redactor.options import PipelineOptions, TextPolicy
from redactor.pii import build_recognizers
from redactor.pii.names import NameLists, NameRecognizer
from redactor.text.builders import build_text_detectors
from redactor.text.code_detector import CodeDetector
from redactor.text.detector import TextDetector
from redactor.text.ocr import MalformedOcrOutput, OcrLine
from redactor.text.reading import MAX_REGIONS, REGION_GAP
from tests.unit.pii.test_names import LISTS
from tests.unit.test_text_lines import run

KEY = b"unit-test-key-0123456789"
RECOGNIZERS = (
    *build_recognizers(["email", "phone", "card", "address", "tracking", "dob"]),
    NameRecognizer(LISTS),
)


@dataclass
class FakeEngine:
    """Returns fixed runs (or raises), and remembers the image sizes it was given."""

    output: Any = ()
    error: Exception | None = None
    seen: list[tuple[int, ...]] = field(default_factory=list)
    frames: list[tuple[int, int] | None] = field(default_factory=list)
    name: str = "fake"
    version: str = "fake@1.0"

    def read(self, image: RGBImage, *, frame: tuple[int, int] | None = None) -> Sequence[OcrLine]:
        self.seen.append(image.shape)
        self.frames.append(frame)
        if self.error is not None:
            raise self.error
        return self.output  # type: ignore[no-any-return]


def detector(
    output: Any = (),
    policy: TextPolicy = "pii",
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    hash_key: bytes | None = KEY,
) -> TextDetector:
    return TextDetector(FakeEngine(output), policy, allow, deny, hash_key, recognizers=RECOGNIZERS)


def textured(height: int, width: int) -> RGBImage:
    """Detail everywhere, so the engine is given the whole image (see ``redactor.detail``)."""
    return np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)


IMAGE = textured(600, 800)


def test_given_an_engine_that_raises_then_detection_fails_closed_without_the_text() -> None:
    engine = FakeEngine(error=RuntimeError("could not read jane@example.com"))
    text = TextDetector(engine, "pii", recognizers=RECOGNIZERS)
    with pytest.raises(DetectionError) as caught:
        text.detect(IMAGE)
    message = str(caught.value)
    assert "fake" in message and "RuntimeError" in message
    assert "jane" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize(
    "output",
    [
        [{"text": "jane"}],
        "not a list of lines",
        [OcrLine("a", Box(0, 0, float("inf"), 10), 0.9, ())],
        [OcrLine("a", Box(0, 0, 10, 10), 1.5, ())],
    ],
)
def test_given_malformed_engine_output_then_detection_fails_closed(output: Any) -> None:
    with pytest.raises(DetectionError, match="malformed"):
        detector(output).detect(IMAGE)


def test_given_an_adapter_that_cannot_parse_then_detection_fails_closed() -> None:
    engine = FakeEngine(error=MalformedOcrOutput("box has 3 points"))
    with pytest.raises(DetectionError, match=r"fake.*malformed"):
        TextDetector(engine, "pii", recognizers=RECOGNIZERS).detect(IMAGE)


def test_given_an_email_split_over_two_runs_then_one_finding_covers_both() -> None:
    left, right = run("Mail: jane.", 80, 100), run("doe@example.com", 205, 101)
    (finding,) = detector([right, left]).detect(IMAGE)
    assert finding.kind == "pii.email"
    assert finding.box.x0 == left.words[1].box.x0
    assert finding.box.x1 == right.box.x1
    assert finding.detector == "text" and finding.model == "fake@1.0"
    assert finding.attributes == {"rule": "dotted"}


def test_given_a_label_block_then_every_line_of_it_is_redacted() -> None:
    label = [
        run("SHIP TO:", 10, 10),
        run("Jane Doe", 10, 34),
        run("1 Main Street", 10, 58),
        run("Springfield, IL 62704", 10, 82),
    ]
    product = run("ORGANIC COFFEE", 400, 400, height=40, char_width=20)
    findings = detector([*label, product]).detect(IMAGE)
    covered = {round(f.box.y0) for f in findings}
    assert covered == {10, 34, 58, 82}
    assert {f.attributes["rule"] for f in findings} >= {"address-block", "street"}


def test_given_a_cue_above_then_the_item_below_counts() -> None:
    findings = detector([run("Home Phone", 10, 10), run("414-2285", 10, 34)]).detect(IMAGE)
    assert [(f.kind, f.attributes["rule"]) for f in findings] == [("pii.phone", "cue-above")]


def test_given_a_label_under_a_name_cue_then_it_is_not_a_name() -> None:
    """A visa's label stack: "Name" over its other languages, then the value."""
    lines = [run("Name", 10, 10), run("Cognome Nome", 10, 34), run("ROSSI MARIO", 10, 58)]
    boxes = {round(f.box.y0) for f in detector(lines).detect(IMAGE) if f.kind == "pii.name"}
    assert 34 not in boxes


def test_given_a_line_of_field_labels_then_no_name_rule_reads_a_name_in_it() -> None:
    # "Art" is a first name; "ART DES VISUMS" is a visa's caption (German lexicon);
    # "Frances" is one edit from a state, "France": still a name
    lists = NameLists(first=frozenset({"art", "frances"}), last=frozenset({"boyle"}))
    lines = [run("ART DES VISUMS", 10, 10), run("ART DES VISUMS C", 10, 150)]
    lines += [run("ART SCHNEIDER", 10, 300), run("Frances Boyle", 10, 450)]
    found = TextDetector(FakeEngine(lines), "pii", recognizers=[NameRecognizer(lists)])
    names = {round(f.box.y0) for f in found.detect(IMAGE) if f.kind == "pii.name"}
    assert names == {300, 450}


def test_given_an_allowed_brand_then_it_gets_no_finding() -> None:
    lines = [run("Jane Smith", 10, 10)]
    assert [f.kind for f in detector(lines).detect(IMAGE)] == ["pii.name"]
    assert detector(lines, allow=["Jane Smith"]).detect(IMAGE) == []


def test_given_an_allowed_word_inside_a_match_then_the_box_leaves_it_out() -> None:
    line = run("Ship to: Ben Smith", 10, 10)
    (finding,) = detector([line], allow=["Ben"]).detect(IMAGE)
    assert finding.box == line.words[3].box


def test_given_a_denied_term_then_it_is_always_redacted() -> None:
    line = run("Project Bluebird prototype", 10, 10)
    (finding,) = detector([line], deny=["project bluebird"]).detect(IMAGE)
    assert finding.kind == "pii.denied"
    assert finding.box.x1 == line.words[1].box.x1


def test_given_policy_all_then_everything_but_allowed_terms_is_redacted() -> None:
    brand, flavour = run("Ben & Jerry's", 10, 10), run("Chunky Monkey", 10, 200)
    findings = detector([brand, flavour], policy="all", allow=["Ben & Jerry's"]).detect(IMAGE)
    assert [(f.kind, f.box) for f in findings] == [("text", flavour.box)]


def test_given_policy_off_then_there_is_no_text_detector_to_call() -> None:
    engine = FakeEngine([run("jane@example.com", 0, 0)])
    with pytest.raises(ConfigError, match="off"):
        TextDetector(engine, "off", recognizers=RECOGNIZERS)
    assert engine.seen == []


def test_findings_hold_keyed_hashes_never_text() -> None:
    lines = [run("jane@example.com", 0, 0)]
    (keyed,) = detector(lines).detect(IMAGE)
    (unkeyed,) = detector(lines, hash_key=None).detect(IMAGE)
    assert keyed.text_hash is not None and len(keyed.text_hash) == 32
    assert "jane" not in repr(keyed)
    assert unkeyed.text_hash is None


def test_given_a_large_image_then_ocr_runs_bounded_and_boxes_come_back_full_size() -> None:
    engine = FakeEngine([run("jane@example.com", 100, 100)])
    text = TextDetector(engine, "pii", recognizers=RECOGNIZERS, max_side=2000)
    (finding,) = text.detect(textured(3000, 5000))
    assert max(engine.seen[0][:2]) == 2000
    assert finding.box.x0 == pytest.approx(250.0)
    assert finding.box.y0 == pytest.approx(250.0)


def test_given_a_wrong_image_then_detection_fails() -> None:
    with pytest.raises(DetectionError):
        detector().detect(np.zeros((10, 10), np.uint8))


def test_builders_build_only_what_the_options_switch_on() -> None:
    assert build_text_detectors(PipelineOptions(text="off", codes=False)) == []
    (codes,) = build_text_detectors(PipelineOptions(text="off"), KEY)
    assert isinstance(codes, CodeDetector)


def _on_backdrop(height: int, width: int, patch: Box) -> RGBImage:
    """A white backdrop (with JPEG-like noise of +-3 levels) and one textured patch."""
    rng = np.random.default_rng(5)
    image = (250 + rng.integers(-3, 4, (height, width, 3))).astype(np.uint8)
    x0, y0, x1, y1 = patch.to_int()
    image[y0:y1, x0:x1] = textured(y1 - y0, x1 - x0)
    return image


def test_given_a_label_on_a_plain_backdrop_then_only_its_area_is_read_and_boxes_map_back() -> None:
    # The engine answers in the coordinates of what it was given: the crop.
    engine = FakeEngine([run("jane@example.com", 30, 40)])
    text = TextDetector(engine, "pii", recognizers=RECOGNIZERS)
    (finding,) = text.detect(_on_backdrop(1200, 1600, Box(500, 300, 900, 600)))
    # The region: the patch, a margin of half the gap, and the detail window's reach
    # (under 8 px a side); the engine is told the whole image's size.
    margin = REGION_GAP // 2
    ((height, width, _),) = engine.seen
    assert engine.frames == [(1200, 1600)]
    assert 300 + 2 * margin <= height <= 300 + 2 * margin + 18
    assert 400 + 2 * margin <= width <= 400 + 2 * margin + 18
    crop_x0, crop_y0 = finding.box.x0 - 30, finding.box.y0 - 40
    assert 500 - margin - 9 <= crop_x0 <= 500 - margin
    assert 300 - margin - 9 <= crop_y0 <= 300 - margin


def test_given_detail_over_most_of_the_image_then_the_whole_image_is_read() -> None:
    engine = FakeEngine()
    TextDetector(engine, "pii", recognizers=RECOGNIZERS).detect(
        _on_backdrop(600, 800, Box(20, 20, 780, 580))
    )
    assert engine.seen == [(600, 800, 3)]


def test_given_a_flat_image_then_nothing_is_read_and_nothing_found() -> None:
    engine = FakeEngine(error=RuntimeError("must not be called"))
    flat = np.full((600, 800, 3), 128, np.uint8)
    assert TextDetector(engine, "pii", recognizers=RECOGNIZERS).detect(flat) == []
    assert engine.seen == []


def test_given_two_labels_apart_then_each_region_is_read_once_and_lines_map_back() -> None:
    image = _on_backdrop(1200, 1600, Box(100, 100, 500, 300))
    image[800:1000, 1000:1400] = textured(200, 400)
    engine = FakeEngine([run("jane@example.com", 60, 60)])
    findings = TextDetector(engine, "pii", recognizers=RECOGNIZERS).detect(image)
    assert engine.frames == [(1200, 1600), (1200, 1600)]
    # Each region starts half a gap (and the detail window's reach) before its label.
    starts = sorted(f.box.x0 - 60 for f in findings)
    assert starts == [
        pytest.approx(100 - REGION_GAP // 2, abs=9),
        pytest.approx(1000 - REGION_GAP // 2, abs=9),
    ]


def test_given_too_many_regions_then_the_box_around_them_all_is_read() -> None:
    image = _on_backdrop(1200, 1600, Box(200, 200, 240, 240))
    for i in range(MAX_REGIONS + 2):
        x, y = 200 + (i % 4) * 200, 200 + (i // 4) * 200
        image[y : y + 40, x : x + 40] = textured(40, 40)
    engine = FakeEngine()
    TextDetector(engine, "pii", recognizers=RECOGNIZERS).detect(image)
    ((height, width, _),) = engine.seen
    assert 600 + 40 <= width <= 600 + 40 + 2 * REGION_GAP and height < 700

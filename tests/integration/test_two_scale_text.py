"""Two-scale text detection with the real RapidOCR models: it falls back to whole-image
detection on a page of small print, and finds a personal line alone in a large area."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from redactor.findings import Finding, RGBImage
from redactor.text.detector import TextDetector
from redactor.text.engines import create_engine
from redactor.text.ocr import EngineSettings, OcrEngine
from redactor.text.reading import MAX_PROPOSED_SHARE, reading_plan, text_areas
from testkit.panels import Panel, Segment, pii, product, render_panel
from testkit.people import faker, valid_phone
from testkit.photos import photo_background
from testkit.text_scenes import Item
from tests.integration.test_text_detection import KEY, coverage

pytestmark = pytest.mark.models

SIZE = (1600, 1200)


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    # The default canvas (1280 px) for 1600 px images, where two-scale detection pays.
    return create_engine("rapidocr", EngineSettings(threads=2, detection_side=1280))


def _compose(
    background: Image.Image, panels: list[tuple[Panel, tuple[int, int]]]
) -> tuple[RGBImage, list[Item]]:
    items: list[Item] = []
    for panel, at in panels:
        card, boxes = render_panel(panel)
        background.paste(card, at, card)
        items += [Item(s.text, s.kind, box.shifted(*at)) for s, box in boxes]
    buffer = io.BytesIO()
    background.save(buffer, "JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")), items


def small_print_page(seed: int = 7) -> tuple[RGBImage, list[Item]]:
    """A page of 13 px print filling the frame, one e-mail and one phone among its lines."""
    fake = faker("en_GB", seed)
    lines: list[list[Segment]] = [[product(fake.sentence(nb_words=30)[:230])] for _ in range(58)]
    lines[23] = [Segment("Questions: "), pii(fake.email(), "pii.email")]
    lines[41] = [Segment("Tel. "), pii(valid_phone(fake, "020 7946 ####", "GB"), "pii.phone")]
    page = Panel(lines=lines, font="LiberationSerif-Regular.ttf", size=13, margin=30)
    return _compose(Image.new("RGB", SIZE, (250, 250, 247)), [(page, (0, 0))])


def lone_line(background: str) -> tuple[RGBImage, list[Item]]:
    """A product panel at the top left and, far from it at the bottom right, one
    e-mail line in 16 px print; on a photo, or on grey paper with sensor noise (flat to
    the eye, but detailed to :mod:`redactor.detail`, so the first pass decides)."""
    fake = faker("en_US", 11)
    if background == "paper":
        rng = np.random.default_rng(4)
        noise = rng.integers(-9, 10, (SIZE[1], SIZE[0], 3))
        canvas = Image.fromarray((200 + noise).astype(np.uint8))
    else:
        canvas = photo_background(background, SIZE)
    panel = Panel(
        lines=[[product("NORDKAFFE")], [product("ORGANIC COFFEE")], [product("500 g")]],
        font="DejaVuSans-Bold.ttf",
        size=28,
        sizes=[60, 34, 28],
    )
    email = Panel(lines=[[pii(fake.email(), "pii.email")]], font="NotoSans-Regular.ttf", size=16)
    return _compose(canvas, [(panel, (60, 50)), (email, (1270, 1110))])


def _covered(findings: list[Finding], items: list[Item], shape: tuple[int, ...]) -> None:
    for item in items:
        if item.personal:
            assert coverage(item.box, findings, shape) >= 0.95, item.kind


def test_given_a_page_of_small_print_then_detection_falls_back_to_the_whole_page(
    engine: OcrEngine,
) -> None:
    image, items = small_print_page()
    plan = reading_plan(engine, image, two_scale=True)
    # Read as without the first pass: the page's detail region, whole.
    assert not plan.proposed
    assert plan.areas == text_areas(image) and plan.areas[0].area > 0.7 * SIZE[0] * SIZE[1]
    findings = TextDetector(engine, "pii", hash_key=KEY, two_scale=True).detect(image)
    _covered(findings, items, image.shape)


@pytest.mark.parametrize("background", ["paper", "coffee"])
def test_given_a_personal_line_far_from_other_text_then_the_fast_path_finds_it(
    engine: OcrEngine, background: str
) -> None:
    image, items = lone_line(background)
    (email,) = [i for i in items if i.personal]
    plan = reading_plan(engine, image, two_scale=True)
    assert plan.proposed
    assert sum(a.area for a in plan.areas) < MAX_PROPOSED_SHARE * SIZE[0] * SIZE[1]
    # The e-mail lies whole inside one region read at full scale.
    assert any(
        a.x0 <= email.box.x0
        and a.y0 <= email.box.y0
        and a.x1 >= email.box.x1
        and a.y1 >= email.box.y1
        for a in plan.areas
    )
    fast = TextDetector(engine, "pii", hash_key=KEY, two_scale=True).detect(image)
    _covered(fast, items, image.shape)
    whole = TextDetector(engine, "pii", hash_key=KEY).detect(image)
    assert sorted(f.kind for f in fast) == sorted(f.kind for f in whole)

"""Real OCR models on rendered scenes and real photos: personal text found, product text kept."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from PIL import Image

from redactor.findings import Finding
from redactor.geometry import Box, union_box
from redactor.options import PipelineOptions
from redactor.text.builders import build_text_detectors
from redactor.text.detector import TextDetector
from redactor.text.engines import create_engine
from redactor.text.ocr import EngineSettings, OcrEngine
from testkit.photos import upright_rgb
from testkit.text_scenes import (
    REAL_PERSONAL,
    REAL_PRODUCT,
    SCENES,
    Panel,
    Placed,
    Scene,
    Segment,
    card_scene,
    label_scene,
    pii,
    render,
    shipping_scene,
)
from tests.support import ROOT, shared_image

pytestmark = pytest.mark.models

KEY = b"integration-test-key-0123456789"
#: Two threads: the machine is shared by parallel test runs.
SETTINGS = EngineSettings(threads=2)
#: Share of a product item's box a finding may overlap: neighbouring lines' word boxes
#: graze it on tilted panels, but a finding meant for it would cover most of it.
MAX_PRODUCT_OVERLAP = 0.3


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return create_engine("rapidocr", SETTINGS)


@pytest.fixture(scope="module")
def text(engine: OcrEngine) -> TextDetector:
    return TextDetector(engine, "pii", hash_key=KEY)


@pytest.fixture(scope="module", params=sorted(SCENES))
def scene(request: pytest.FixtureRequest, text: TextDetector) -> tuple[Scene, list[Finding]]:
    rendered = SCENES[request.param]()
    return rendered, text.detect(rendered.image)


def coverage(box: Box, findings: Sequence[Finding], shape: tuple[int, ...]) -> float:
    """Share of ``box`` inside the union of the finding boxes."""
    mask = np.zeros(shape[:2], bool)
    for f in findings:
        x0, y0, x1, y1 = f.box.clipped(shape[1], shape[0]).to_int()
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = box.clipped(shape[1], shape[0]).to_int()
    return float(mask[y0:y1, x0:x1].mean())


def rgb(name: str) -> np.ndarray:
    return upright_rgb(shared_image(name))


def test_given_a_rendered_scene_then_every_personal_item_is_covered(
    scene: tuple[Scene, list[Finding]],
) -> None:
    rendered, findings = scene
    for item in rendered.personal:
        assert coverage(item.box, findings, rendered.image.shape) >= 0.95, item.kind


def test_given_a_rendered_scene_then_product_text_gets_no_finding(
    scene: tuple[Scene, list[Finding]],
) -> None:
    rendered, findings = scene
    for item in rendered.product:
        assert coverage(item.box, findings, rendered.image.shape) <= MAX_PRODUCT_OVERLAP, item.text


def test_given_a_rendered_scene_then_checksummed_items_get_their_own_kind(
    scene: tuple[Scene, list[Finding]],
) -> None:
    rendered, findings = scene
    exact = {"pii.email", "pii.phone", "pii.card", "pii.iban", "pii.tracking", "pii.plate"}
    for item in rendered.personal:
        if item.kind in exact:
            kinds = {
                f.kind for f in findings if coverage(item.box, [f], rendered.image.shape) > 0.5
            }
            assert item.kind in kinds


def test_findings_carry_hashes_and_rules_never_text(scene: tuple[Scene, list[Finding]]) -> None:
    rendered, findings = scene
    dumped = repr(findings)
    for item in rendered.personal:
        assert item.text not in dumped
    assert all(f.text_hash and len(f.text_hash) == 32 and f.attributes["rule"] for f in findings)
    assert {f.model for f in findings} == {"rapidocr@3.10.0"}


def test_given_a_large_photo_then_boxes_are_mapped_back_to_full_resolution(
    engine: OcrEngine,
) -> None:
    # Upscaled 1.8x, then read at a bound of 1400 px: OCR sees about the original pixels.
    small = shipping_scene(seed=7)
    factor = 1.8
    height, width = small.image.shape[:2]
    big = np.asarray(
        Image.fromarray(small.image).resize((round(width * factor), round(height * factor)))
    )
    findings = TextDetector(engine, "pii", max_side=1400).detect(big)
    for item in small.personal:
        assert coverage(item.box.times(factor), findings, big.shape) >= 0.95, item.kind


def test_given_policy_all_then_all_text_but_the_allowed_brand_is_covered(engine: OcrEngine) -> None:
    rendered = shipping_scene()
    everything = TextDetector(engine, "all", allow_terms=["NORDKAFFE"])
    findings = everything.detect(rendered.image)
    assert {f.kind for f in findings} == {"text"}
    for item in rendered.items:
        covered = coverage(item.box, findings, rendered.image.shape)
        if item.text == "NORDKAFFE":
            assert covered <= MAX_PRODUCT_OVERLAP
        elif len(item.text.strip()) > 3:
            assert covered >= 0.9, item.text


def test_given_allow_and_deny_terms_then_they_win_over_the_rules(engine: OcrEngine) -> None:
    rendered = card_scene()
    name = rendered.personal[0]  # the card holder's name, a first-name-and-surname line
    allowing = TextDetector(engine, "pii", allow_terms=[name.text], deny_terms=["FRESH MARKET"])
    findings = allowing.detect(rendered.image)
    assert coverage(name.box, findings, rendered.image.shape) <= MAX_PRODUCT_OVERLAP
    store = next(i for i in rendered.items if i.text == "FRESH MARKET")
    assert coverage(store.box, findings, rendered.image.shape) >= 0.95
    assert "pii.denied" in {f.kind for f in findings}


# --- real photos ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_PERSONAL))
def test_given_a_real_photo_then_its_labelled_personal_items_are_found(
    text: TextDetector, name: str
) -> None:
    image = rgb(name)
    findings = text.detect(image)
    for kind, box in REAL_PERSONAL[name]:
        assert coverage(box, findings, image.shape) >= 0.95, kind
        assert kind in {f.kind for f in findings if coverage(box, [f], image.shape) > 0.5}
    for product, box in REAL_PRODUCT.get(name, []):
        assert coverage(box, findings, image.shape) == 0.0, product


def test_given_a_thin_banner_then_it_is_read_within_memory(text: TextDetector) -> None:
    banner = render(
        [
            Placed(
                Panel(
                    [[Segment("Contact: "), pii("jane.doe@example.com", "pii.email")]],
                    "FreeSans.ttf",
                    22,
                ),
                (0, 0),
            )
        ],
        size=(2400, 80),
    )
    findings = text.detect(banner.image)
    (item,) = banner.personal
    assert coverage(item.box, findings, banner.image.shape) >= 0.95


def test_given_a_store_sign_then_nothing_is_personal(text: TextDetector) -> None:
    assert text.detect(rgb("sign_store_advert.jpg")) == []


# --- the quantised proposal pass (ocr_precision="int8-proposal") ---------------------------

#: The images on which a job's two-scale reading makes its first pass (the plate photo is
#: too small for one: it is read whole, so every precision reads it alike).
PROPOSED = ["scene:card", "scene:eu", "scene:shipping", "doc_form_application.png"]
PROPOSED += ["receipt_store_card.jpg"]
#: Kinds a rule recognises exactly (checksums, formats): a finding must carry them.
EXACT_KINDS = {"pii.email", "pii.phone", "pii.card", "pii.iban", "pii.tracking", "pii.plate"}


@pytest.fixture(scope="module")
def int8_proposal_text() -> TextDetector:
    """A job's text detector at ``int8-proposal``, its other options the defaults (a
    1280 px detection canvas, two scales)."""
    options = PipelineOptions(ocr_precision="int8-proposal", codes=False)
    (text,) = build_text_detectors(options, KEY, threads=2)
    assert isinstance(text, TextDetector)
    return text


def _labelled(case: str) -> tuple[np.ndarray, list[tuple[str, Box]], list[tuple[str, Box, float]]]:
    """The image, its personal items (kind, box) and its product items (text, box, the
    most of it a finding may cover)."""
    if case.startswith("scene:"):
        scene = SCENES[case.removeprefix("scene:")]()
        personal = [(item.kind, item.box) for item in scene.personal]
        product = [(item.text, item.box, MAX_PRODUCT_OVERLAP) for item in scene.product]
        return scene.image, personal, product
    product = [(text, box, 0.0) for text, box in REAL_PRODUCT.get(case, [])]
    return rgb(case), REAL_PERSONAL[case], product


@pytest.mark.parametrize("case", PROPOSED)
def test_given_int8_proposal_then_the_small_print_int8_misses_is_still_found(
    int8_proposal_text: TextDetector, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At these options the shipped int8 detector loses the form's 12 px phone
    (docs/benchmarks.md); in the first pass only, which just chooses where the float
    detector looks, every item is found as with the float detector alone."""
    image, personal, product = _labelled(case)
    engine = int8_proposal_text._engine
    proposals: list[float] = []

    def propose(region: np.ndarray, *, scale: float) -> Any:
        proposals.append(scale)
        return type(engine).propose(engine, region, scale=scale)  # type: ignore[attr-defined]

    monkeypatch.setattr(engine, "propose", propose)
    findings = int8_proposal_text.detect(image)
    assert len(proposals) == 1  # the quantised pass chose the regions
    assert {f.model for f in findings} == {int8_proposal_text.model}
    assert int8_proposal_text.model.endswith("+propose-int8")
    for kind, box in personal:
        assert coverage(box, findings, image.shape) >= 0.95, kind
        if kind in EXACT_KINDS:
            assert kind in {f.kind for f in findings if coverage(box, [f], image.shape) > 0.5}
    for text, box, most in product:
        assert coverage(box, findings, image.shape) <= most, text


# --- offline, and the second engine --------------------------------------------------------

OFFLINE_SCRIPT = """
import numpy as np
from redactor.text.engines import create_engine
from redactor.text.ocr import EngineSettings
engine = create_engine("rapidocr", EngineSettings(threads=1))
print(len(engine.read(np.full((64, 256, 3), 255, np.uint8))))
"""


def test_rapidocr_runs_with_the_network_off() -> None:
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_SCRIPT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation chatter
def test_easyocr_finds_the_contact_details_on_a_label() -> None:
    rendered = label_scene()
    engine = create_engine("easyocr", SETTINGS)
    findings = TextDetector(engine, "pii").detect(rendered.image)
    for item in rendered.personal:
        if item.kind in {"pii.email", "pii.phone", "pii.address"}:
            assert coverage(item.box, findings, rendered.image.shape) >= 0.95, item.kind
    assert {f.model for f in findings} == {"easyocr@1.7.2"}


def test_given_a_bounded_detection_canvas_then_text_is_still_found_where_it_is() -> None:
    """Detection on a smaller canvas, recognition on full-resolution crops: the boxes
    come back in the image's pixels and the shipping label is still covered."""
    rendered = shipping_scene()
    height, width = rendered.image.shape[:2]
    side = max(height, width) * 3 // 4
    bounded = create_engine("rapidocr", EngineSettings(threads=2, detection_side=side))
    findings = TextDetector(bounded, "pii", hash_key=KEY).detect(rendered.image)
    detector = bounded._ocr.text_det  # type: ignore[attr-defined]
    assert (detector.limit_type, detector.limit_side_len) == ("max", side)
    for item in rendered.personal:
        assert coverage(item.box, findings, rendered.image.shape) >= 0.95, item.kind
    # An image within the canvas is detected by RapidOCR's own rule again.
    bounded.read(rendered.image[: height // 2, : width // 2])
    assert (detector.limit_type, detector.limit_side_len) == ("min", 736)


def test_given_a_label_on_a_studio_backdrop_then_only_its_region_is_read_and_all_found(
    engine: OcrEngine,
) -> None:
    """The label of the shipping scene on a plain sweep: read as a region at the scale
    the whole image would get, every personal item still covered."""
    rendered = shipping_scene()
    label = union_box([item.box for item in rendered.personal]).padded(30)
    x0, y0, x1, y1 = label.clipped(*rendered.image.shape[1::-1]).to_int()
    rng = np.random.default_rng(2)
    canvas = (240 + rng.integers(-2, 3, (1200, 1600, 3))).astype(np.uint8)
    at_x, at_y = 900, 600
    canvas[at_y : at_y + y1 - y0, at_x : at_x + x1 - x0] = rendered.image[y0:y1, x0:x1]
    seen: list[tuple[tuple[int, ...], tuple[int, int] | None]] = []

    class Spy:
        name, version = engine.name, engine.version

        def read(self, image: np.ndarray, *, frame: tuple[int, int] | None = None) -> Any:
            seen.append((image.shape, frame))
            return engine.read(image, frame=frame)

    findings = TextDetector(Spy(), "pii", hash_key=KEY).detect(canvas)
    ((shape, frame),) = seen
    assert frame == (1200, 1600) and shape[0] * shape[1] < 0.3 * 1200 * 1600
    for item in rendered.personal:
        moved = item.box.shifted(at_x - x0, at_y - y0)
        assert coverage(moved, findings, canvas.shape) >= 0.95, item.kind


def test_given_a_region_too_small_to_detect_at_its_scale_then_reading_fails_closed() -> None:
    """RapidOCR reports an input that rounds to nothing as "no text"; the adapter must
    refuse instead (the text detector never makes such regions: they are >= 128 px)."""
    small = create_engine("rapidocr", EngineSettings(threads=1, detection_side=320))
    with pytest.raises(ValueError, match="under 32 px"):
        small.read(np.full((40, 40, 3), 255, np.uint8), frame=(4000, 4000))
    text = TextDetector(small, "pii", hash_key=KEY)
    assert text.detect(np.full((300, 300, 3), 255, np.uint8)) == []  # flat: nothing to read

import numpy as np

from redactor.findings import FACE, Finding
from redactor.geometry import Box
from redactor.options import PipelineOptions
from redactor.redact import apply_redactions, region_for


def _finding(kind: str, box: Box) -> Finding:
    return Finding(kind=kind, box=box, score=0.9, detector="test", model="test@0")


def _noisy(h: int = 200, w: int = 300) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_face_is_an_ellipse_grown_by_the_mask_scale() -> None:
    image = _noisy()
    before = image.copy()
    options = PipelineOptions(face_mask_scale=1.5)
    applied = apply_redactions(image, [_finding(FACE, Box(100, 50, 160, 130))], options)
    assert [style for _, style in applied] == ["blur"]
    changed = np.any(image != before, axis=2)
    region = region_for(_finding(FACE, Box(100, 50, 160, 130)), options)
    assert region == Box(85, 30, 175, 150)
    assert changed[90, 130]  # centre
    assert not changed[31, 86]  # corner of the box lies outside the ellipse
    assert not changed[:25].any() and not changed[:, :80].any() and not changed[:, 180:].any()


def test_text_gets_a_margin_and_the_fill_style() -> None:
    image = _noisy()
    apply_redactions(image, [_finding("pii.email", Box(50, 100, 150, 120))], PipelineOptions())
    assert not image[97:123, 47:153].any()  # 20 px high box: 4 px margin
    assert image[90:96, 50:150].any()


def test_per_kind_style_overrides_the_family_default() -> None:
    image = _noisy()
    options = PipelineOptions(styles={"pii.email": "pixelate"})
    applied = apply_redactions(image, [_finding("pii.email", Box(10, 10, 50, 30))], options)
    assert applied[0][1] == "pixelate"
    assert options.style_for("pii.phone") == "fill"


def test_faces_cut_by_the_image_edge_are_clipped_not_dropped() -> None:
    image = _noisy()
    before = image.copy()
    apply_redactions(image, [_finding(FACE, Box(-30, -20, 40, 60))], PipelineOptions())
    assert np.any(image[:30, :20] != before[:30, :20])

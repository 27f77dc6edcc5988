"""Document mode with the real OCR engine and face detector, on specimens and product photos."""

from __future__ import annotations

import pytest

from redactor.findings import DOCUMENT
from redactor.options import PipelineOptions
from redactor.pii.base import DOCUMENT_FIELD, MRZ
from redactor.pipeline import Pipeline
from testkit.documents import FIELD, MRZ_LINE, document_scene, to_jpeg
from tests.support import shared_image

pytestmark = [pytest.mark.models, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.build(PipelineOptions(), hash_key=b"integration-key-0123456789")


def kinds_of(pipeline: Pipeline, data: bytes) -> list[str]:
    result = pipeline.run(data)
    assert result.ok, result.report.error
    return [f.kind for f in result.report.findings]


@pytest.mark.parametrize(
    ("name", "mrz_lines"), [("passport_ua_specimen.png", 2), ("id_card_lv_specimen.png", 3)]
)
def test_given_a_specimen_then_it_is_a_document_with_its_whole_mrz(
    pipeline: Pipeline, name: str, mrz_lines: int
) -> None:
    kinds = kinds_of(pipeline, shared_image(name).read_bytes())
    assert DOCUMENT in kinds
    assert kinds.count(MRZ) == mrz_lines
    assert kinds.count(DOCUMENT_FIELD) >= 8


@pytest.mark.parametrize(
    "name", ["sign_store_advert.jpg", "product_hands_no_face.jpg", "plate_dealer_placeholder.webp"]
)
def test_given_product_and_sign_photos_then_there_is_no_document_and_no_text_goes(
    pipeline: Pipeline, name: str
) -> None:
    kinds = kinds_of(pipeline, shared_image(name).read_bytes())
    assert DOCUMENT not in kinds
    assert not [k for k in kinds if k.startswith("pii.")]


def test_given_a_generated_passport_on_a_table_then_fields_and_mrz_are_covered(
    pipeline: Pipeline,
) -> None:
    scene = document_scene("TD3", "de", 11)
    result = pipeline.run(to_jpeg(scene.image, 80))
    assert result.ok
    boxes = [f.box for f in result.report.findings if f.kind in (MRZ, DOCUMENT_FIELD)]
    personal = [i for i in scene.items if i.kind in (FIELD, MRZ_LINE)]
    covered = [
        i
        for i in personal
        if any(b[0] <= i.box.center[0] <= b[2] and b[1] <= i.box.center[1] <= b[3] for b in boxes)
    ]
    assert len(covered) >= 0.9 * len(personal)
    products = [i for i in scene.items if i.kind == "product"]
    assert not [
        p
        for p in products
        if any(b[0] <= p.box.center[0] <= b[2] and b[1] <= p.box.center[1] <= b[3] for b in boxes)
    ]

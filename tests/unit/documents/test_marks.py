"""The marks inside a document besides its text: ghost portraits, signatures, codes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from redactor.documents.marks import HEAD_SHAPES, dense_patches, face_core, ghost_portraits
from redactor.documents.review import DocumentReviewer
from redactor.faces import head_box
from redactor.findings import DOCUMENT, RGBImage
from redactor.geometry import Box, intersection, union_box
from redactor.pii.base import DOCUMENT_FIELD
from redactor.pii.policy import Policy
from redactor.text.lines import TextLine, build_lines
from testkit.documents import (
    CODE,
    FIELD,
    FINGERPRINT,
    LABEL,
    MRZ_LINE,
    DocumentScene,
    document_scene,
    render_document,
    with_back_marks,
)
from testkit.photos import sample_photo
from tests.unit.documents.test_mrz import TD3
from tests.unit.documents.test_review import IMAGE, PAGE
from tests.unit.test_text_lines import run

#: The astronaut's face in scikit-image's portrait (see testkit.documents).
FACE = (165, 57, 286, 178)


def guilloche(height: int, width: int) -> RGBImage:
    """Pale paper with fine wavy lines, as documents print under their fields."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = 12 * np.sin(x / 5 + 3 * np.sin(y / 17)) + 8 * np.sin(y / 4 + x / 23)
    grey = np.clip(225 + waves, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2), dtype=np.uint8)


def card(*, ghost: bool) -> tuple[RGBImage, Box, Box]:
    """A card with a portrait on the left and, optionally, its ghost copy on the right,
    lighter, in grey and a third of the size: the image, the face box and the ghost's
    face box."""
    page = guilloche(540, 856)
    photo = sample_photo("astronaut").crop((110, 10, 340, 300))
    portrait = np.asarray(photo.resize((230, 290)))
    page[120:410, 40:270] = portrait
    face = Box(40 + FACE[0] - 110, 120 + FACE[1] - 10, 40 + FACE[2] - 110, 120 + FACE[3] - 10)
    small = np.asarray(photo.convert("L").resize((77, 97), Image.Resampling.LANCZOS), np.float32)
    s = 77 / 230
    at = Box(
        700 + s * (FACE[0] - 110),
        300 + s * (FACE[1] - 10),
        700 + s * (FACE[2] - 110),
        300 + s * (FACE[3] - 10),
    )
    if ghost:
        under = page[300:397, 700:777].astype(np.float32)
        page[300:397, 700:777] = (0.45 * under + 0.55 * small[..., None]).astype(np.uint8)
    return page, face, at


def test_given_a_lighter_smaller_copy_of_the_portrait_then_it_is_the_ghost() -> None:
    image, face, at = card(ghost=True)
    (ghost,) = ghost_portraits(image, [face], Box(0, 0, 856, 540))
    assert ghost.x0 <= at.x0 and ghost.x1 >= at.x1
    assert ghost.y0 <= at.y0 + 2 and ghost.y1 >= at.y1


def test_given_no_ghost_then_guilloche_text_and_paper_are_not_taken_for_one() -> None:
    image, face, _ = card(ghost=False)
    assert ghost_portraits(image, [face], Box(0, 0, 856, 540)) == []


def test_given_words_chained_into_an_mrz_line_then_they_are_redacted_too() -> None:
    """A signature beside the zone (or a card's other side) read into one MRZ line: the
    MRZ finding covers the zone's words only, the rest is document text like any other."""
    runs = [run(text, x, y, h, 0.55 * h) for text, x, y, h in PAGE]
    runs += [run(row, 80, 560 + 40 * k, 26, 20) for k, row in enumerate(TD3)]
    runs.append(run("Milica Tesk", 2, 600, 26, 6))
    lines = build_lines(runs)
    (merged,) = [line for line in lines if "Tesk" in line.text]
    assert merged.text.endswith(TD3[1])  # the engine's runs were chained into one line
    findings = DocumentReviewer(Policy.build("pii")).review(IMAGE, [], lines)
    signature = merged.words[0].box
    assert any(
        f.kind == DOCUMENT_FIELD and f.box.x0 <= signature.x0 + 1 and f.box.x1 >= signature.x1 - 1
        for f in findings
        if f.kind != DOCUMENT
    )


def card_lines(scene: DocumentScene) -> list[TextLine]:
    """The card's printed text as an OCR engine would return it, one run per item."""
    runs = [
        run(item.text, item.box.x0, item.box.y0, item.box.height, item.box.width / len(item.text))
        for item in scene.items
        if item.text and item.kind in (FIELD, LABEL, MRZ_LINE)
    ]
    return build_lines(runs)


def covered(box: Box, found: list[Box]) -> float:
    mask = np.zeros((2000, 2000), bool)
    for f in found:
        x0, y0, x1, y1 = f.clipped(2000, 2000).to_int()
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = box.to_int()
    return float(mask[y0:y1, x0:x1].mean())


def text_boxes(scene: DocumentScene) -> list[Box]:
    return [i.box for i in scene.items if i.kind in (FIELD, LABEL, MRZ_LINE)]


@pytest.mark.parametrize("seed", [1, 4])
def test_given_a_fingerprint_and_a_stacked_code_on_a_card_then_both_are_patches(
    seed: int,
) -> None:
    scene = with_back_marks(render_document("TD1", "fr", seed), seed)
    image = np.asarray(scene.image.convert("RGB"))
    found = dense_patches(image, scene.documents[1], text_boxes(scene))
    for item in scene.items:
        if item.kind in (FINGERPRINT, CODE):
            assert covered(item.box, found) >= 0.95, item.kind
    assert all(covered(box, found) == 0 for box in text_boxes(scene))


def test_given_a_card_without_marks_then_text_guilloche_and_edges_are_no_patch() -> None:
    scene = render_document("TD1", "de", 2, ghost=False)
    image = np.asarray(scene.image.convert("RGB"))
    back = Box(0, 585, 856, 1125)
    assert dense_patches(image, back, text_boxes(scene)) == []


def test_given_product_packaging_in_an_extent_then_its_coloured_box_is_no_patch() -> None:
    """Marks are only looked for inside documents; even where an extent reaches over the
    product beside a card, a coloured box with its lettering is not a mark."""
    scene = document_scene("TD1", "de", 3)
    image = np.asarray(scene.image.convert("RGB"))
    product = [i.box for i in scene.items if i.kind == "product"]
    assert dense_patches(image, Box(1000, 0, 1600, 1200), product) == []


def test_given_the_marked_card_then_document_mode_redacts_its_fingerprint_and_code() -> None:
    scene = with_back_marks(render_document("TD1", "it", 5), 5)
    image = np.asarray(scene.image.convert("RGB"))
    findings = DocumentReviewer(Policy.build("pii")).review(image, [], card_lines(scene))
    marks = [f.box for f in findings if f.attributes.get("field") == "mark"]
    for item in scene.items:
        if item.kind in (FINGERPRINT, CODE):
            assert covered(item.box, marks) >= 0.9, item.kind


FRAME = Box(0, 0, 1000, 700)


@pytest.mark.parametrize("family", ["centerface", "mediapipe"])
def test_the_face_core_of_a_head_box_holds_the_face_box_it_came_from(family: str) -> None:
    face = Box(300, 200, 380, 300)
    head = head_box(face, HEAD_SHAPES[family])
    core = face_core(head, [family], FRAME)
    assert core.x0 <= face.x0 and core.y0 <= face.y0 and core.x1 >= face.x1
    assert core.y1 >= face.y1
    assert core.y0 > head.y0 + 0.2 * head.height  # hair and background above are not core
    assert core.x0 > head.x0 and core.x1 < head.x1


def test_given_two_families_then_the_core_holds_both_faces() -> None:
    wide, narrow = Box(300, 200, 380, 300), Box(305, 215, 375, 290)
    head = union_box(
        [head_box(wide, HEAD_SHAPES["centerface"]), head_box(narrow, HEAD_SHAPES["mediapipe"])]
    )
    core = face_core(head, ["centerface", "mediapipe"], FRAME)
    for face in (wide, narrow):
        assert core.x0 <= face.x0 and core.y0 <= face.y0
        assert core.x1 >= face.x1 and core.y1 >= face.y1


def test_given_an_unknown_family_or_a_head_clipped_at_the_frame_then_the_core_is_the_head() -> None:
    head = head_box(Box(300, 200, 380, 300), HEAD_SHAPES["centerface"])
    assert face_core(head, ["newfamily"], FRAME) == head
    assert face_core(head, [], FRAME) == head
    clipped = Box(head.x0, 0, head.x1, head.y1)
    assert face_core(clipped, ["centerface"], FRAME) == clipped


def test_given_ink_beside_a_signature_label_and_below_it_then_no_ink_box_spans_the_label() -> None:
    from redactor.documents.marks import signature_ink

    image = np.full((200, 300, 3), 240, np.uint8)
    label = Box(20, 40, 100, 52)
    image[42:50, 22:98:3] = 20  # the label's own letters
    image[42:50, 110:150:3] = 20  # the label's rest, on its rows, that OCR did not read
    image[58:80, 30:160] = 240
    for x in range(30, 160):  # a signature under both
        y = 68 + int(8 * np.sin(x / 6))
        image[y : y + 2, x] = 20
    boxes = signature_ink(image, label, Box(0, 0, 300, 200), [])
    assert boxes and not any(intersection(b, label) > 0 for b in boxes)
    ink = np.argwhere(image[:, :, 0] < 100)
    outside = [
        (y, x) for y, x in ink if not (label.y0 <= y < label.y1 and label.x0 <= x < label.x1)
    ]
    assert all(any(b.x0 <= x < b.x1 and b.y0 <= y < b.y1 for b in boxes) for y, x in outside)

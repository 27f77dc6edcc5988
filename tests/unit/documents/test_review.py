"""Document mode on lines as OCR reads them: what is redacted inside a document, what stays."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from redactor.documents.review import DocumentReviewer
from redactor.findings import DOCUMENT, FACE, Finding
from redactor.geometry import Box, intersection
from redactor.options import PipelineOptions
from redactor.pii.base import DOCUMENT_FIELD, MRZ
from redactor.pii.policy import Policy
from redactor.pipeline import Pipeline
from redactor.redact import region_for
from redactor.text.detector import TextDetector
from redactor.text.lines import TextLine, build_lines
from tests.unit.documents.test_mrz import TD3
from tests.unit.test_text_detector import RECOGNIZERS, FakeEngine, textured
from tests.unit.test_text_lines import run

KEY = b"document-test-key-0123456789"
IMAGE = textured(700, 1000)

#: A passport data page as OCR returns it: (text, x, y, height).
PAGE = [
    ("REPUBLIC OF UTOPIA", 40, 20, 24),
    ("PASSPORT", 600, 20, 24),
    ("Surname / Nom", 360, 100, 14),
    ("ERIKSSON", 360, 118, 22),
    ("Given names / Prénoms", 360, 160, 14),
    ("ANNA MARIA", 360, 178, 22),
    ("Date of birth / Date de naissance", 360, 220, 14),
    ("12 AUG 1974", 360, 238, 22),
    ("Nationality / Nationalité", 700, 220, 14),
    ("UTOPIAN", 700, 238, 22),
    ("SPECIMEN", 360, 290, 22),  # a value printed like the fields: redacted
    ("SPECIMEN", 60, 420, 60),  # the watermark: kept
]


def page_lines(page: list[tuple[str, int, int, int]] = PAGE) -> list[TextLine]:
    runs = [run(text, x, y, h, 0.55 * h) for text, x, y, h in page]
    runs += [run(row, 40, 560 + 40 * k, 26, 21) for k, row in enumerate(TD3)]
    return build_lines(runs)


def reviewed(lines: list[TextLine], faces: list[Finding] = ()) -> list[Finding]:  # type: ignore[assignment]
    reviewer = DocumentReviewer(Policy.build("pii"), KEY)
    return list(reviewer.review(IMAGE, list(faces), lines))


def covered_texts(lines: list[TextLine], findings: list[Finding]) -> set[str]:
    boxes = [f.box for f in findings if f.kind != DOCUMENT]
    return {
        w.text
        for line in lines
        for w in line.words
        if any(b.x0 <= w.box.center[0] <= b.x1 and b.y0 <= w.box.center[1] <= b.y1 for b in boxes)
    }


def test_given_a_passport_page_then_values_and_mrz_go_and_labels_titles_and_watermark_stay() -> (
    None
):
    lines = page_lines()
    findings = reviewed(lines)
    documents = [f for f in findings if f.kind == DOCUMENT]
    assert len(documents) == 1 and documents[0].attributes["evidence"] == "mrz:TD3"
    assert len([f for f in findings if f.kind == MRZ]) == 2
    covered = covered_texts(lines, findings)
    assert {"ERIKSSON", "ANNA", "MARIA", "12", "AUG", "1974", "UTOPIAN"} <= covered
    assert not {"Surname", "Nom", "Prénoms", "PASSPORT", "REPUBLIC", "UTOPIA"} & covered
    specimen_lines = [line for line in lines if line.text == "SPECIMEN"]
    value, watermark = sorted(specimen_lines, key=lambda line: line.height)
    assert value.words[0].text in covered_texts([value], findings)
    assert not covered_texts([watermark], findings)
    fields = [f for f in findings if f.kind == DOCUMENT_FIELD]
    assert all(f.text_hash and "ERIKSSON" not in repr(f) for f in fields)


def test_given_labels_without_an_mrz_then_three_document_fields_make_a_document() -> None:
    lines = [line for line in page_lines() if not line.text.startswith(("P<", "L89"))]
    kinds = [f.kind for f in reviewed(lines)]
    assert DOCUMENT in kinds and MRZ not in kinds


def test_given_a_face_in_the_document_then_its_whole_photo_area_is_redacted() -> None:
    face = Finding(FACE, Box(100, 150, 200, 260), 0.9, "faces", "test")
    findings = reviewed(page_lines(), [face])
    (photo,) = [f for f in findings if f.attributes.get("field") == "portrait"]
    region = region_for(photo, PipelineOptions())  # what the redactor fills
    assert region.x0 < face.box.x0 and region.y1 > face.box.y1 + 20
    assert region.y0 > face.box.y0 - 10  # the face box is a head box already: little above
    # the photo area takes the face's place: its region holds the face box
    assert face not in findings
    assert region.x0 <= face.box.x0 and region.y0 <= face.box.y0
    assert region.x1 >= face.box.x1 and region.y1 >= face.box.y1


def test_given_a_label_beside_the_photo_in_the_head_box_then_it_stays_and_the_face_goes() -> None:
    # a head box reaches past the photo over the labels beside it ("Surname / Nom" at
    # x 360); the face the detector boxed inside it is still redacted whole
    head = Finding(
        FACE, Box(230, 90, 380, 260), 0.9, "faces", "test", None, {"families": "centerface"}
    )
    lines = page_lines()
    label = next(line for line in lines if line.text.startswith("Surname"))
    findings = reviewed(lines, [head])
    (photo,) = [f for f in findings if f.attributes.get("field") == "portrait"]
    region = region_for(photo, PipelineOptions())
    assert intersection(region, label.box) == 0  # the label stays readable
    face_width = head.box.width / 1.5  # centerface heads are 1.5 face widths
    assert region.x1 >= head.box.center[0] + face_width / 2  # the face goes
    assert head not in findings  # the photo area, holding the face, takes its place


PACKAGING = [
    ("NORDKAFFE", 100, 40, 60),
    ("Organic Coffee", 100, 120, 30),
    ("Net weight 250 g", 100, 170, 18),
    ("Best before 12.2026", 100, 200, 18),
    ("Made in Germany", 100, 230, 18),
    ("LOT 24051 B", 100, 260, 18),
    ("Nutrition facts per 100 g", 100, 300, 18),
    ("Energy 1680 kJ / 400 kcal", 100, 325, 18),
    ("Fat 21 g Carbohydrate 60 g", 100, 350, 18),
]


def test_given_product_packaging_then_there_is_no_document_and_nothing_is_redacted() -> None:
    lines = build_lines([run(text, x, y, h, 0.55 * h) for text, x, y, h in PACKAGING])
    assert reviewed(lines) == []


def test_given_the_pipeline_then_the_document_is_reported_but_not_painted() -> None:
    runs = [run(text, x, y, h, 0.55 * h) for text, x, y, h in PAGE]
    runs += [run(row, 40, 560 + 40 * k, 26, 21) for k, row in enumerate(TD3)]
    text = TextDetector(FakeEngine(runs), "pii", hash_key=KEY, recognizers=RECOGNIZERS)
    options = PipelineOptions(faces=False, codes=False)
    pipeline = Pipeline(options, [text], reviewers=[DocumentReviewer(Policy.build("pii"), KEY)])
    buffer = io.BytesIO()
    Image.fromarray(IMAGE).save(buffer, "PNG")
    result = pipeline.run(buffer.getvalue())
    assert result.ok, result.report.error
    actions = {(f.kind, f.action) for f in result.report.findings}
    assert (DOCUMENT, "none") in actions
    assert (MRZ, "fill") in actions and (DOCUMENT_FIELD, "fill") in actions
    assert "documents" in result.report.timings_ms


def test_given_a_state_name_among_the_values_then_it_is_redacted_and_the_header_kept() -> None:
    page = [*PAGE[:2], ("Nationality / Nationalité", 360, 330, 14), ("LIECHTENSTEIN", 360, 348, 22)]
    page += [p for p in PAGE[2:] if not p[0].startswith(("Nationality", "UTOPIAN"))]
    lines = page_lines(page)
    covered = covered_texts(lines, reviewed(lines))
    assert "LIECHTENSTEIN" in covered
    assert not {"REPUBLIC", "UTOPIA", "PASSPORT"} & covered


def test_given_a_garbled_multilingual_or_small_type_label_then_it_is_kept() -> None:
    page = [*PAGE, ("Narrponatta /Nationate", 700, 290, 14), ("Tmwa Sa Vatis To", 360, 330, 14)]
    lines = page_lines(page)
    covered = covered_texts(lines, reviewed(lines))
    assert not {"Narrponatta", "Nationate", "Tmwa", "Vatis"} & covered


def test_given_a_label_shaped_read_far_taller_than_the_text_then_it_is_redacted() -> None:
    page = [*PAGE, ("Luomz/", 700, 330, 50)]  # a signature OCR read as a word
    lines = page_lines(page)
    assert "Luomz/" in covered_texts(lines, reviewed(lines))


def test_given_a_bilingual_sex_value_then_it_is_redacted() -> None:
    page = [*PAGE, ("Sex / Sexe", 700, 290, 14), ("Mara/Female", 700, 308, 14)]
    lines = page_lines(page)
    assert "Mara/Female" in covered_texts(lines, reviewed(lines))


def test_value_regions_do_not_reach_into_the_label_above() -> None:
    lines = page_lines()
    findings = reviewed(lines)
    label = next(line for line in lines if line.text.startswith("Surname"))
    value = next(line for line in lines if line.text == "ERIKSSON")
    regions = [
        region_for(f, PipelineOptions())
        for f in findings
        if f.kind == DOCUMENT_FIELD and f.box.center[1] > label.box.y1
    ]
    over_value = [r for r in regions if r.y0 <= value.box.y0 <= r.y1 and r.x0 <= value.box.x0]
    assert over_value and all(r.y0 >= label.box.y1 - 1e-6 for r in over_value)


def test_given_a_text_finding_inside_a_document_then_its_margin_stops_at_the_label() -> None:
    lines = page_lines()
    label = next(line for line in lines if line.text.startswith("Surname"))
    value = next(line for line in lines if line.text == "ERIKSSON")
    text = Finding("pii.name", value.box, 0.9, "text", "test", None, {"rule": "label-above"})
    assert region_for(text, PipelineOptions()).y0 < label.box.y1  # as the text detector pads
    findings = reviewed(lines, [text])
    assert text not in findings
    (narrowed,) = [f for f in findings if f.detector == "text"]
    region = region_for(narrowed, PipelineOptions())
    assert region.y0 >= label.box.y1 - 1e-6
    assert region.x0 <= value.box.x0 and region.x1 >= value.box.x1  # the value still goes
    assert narrowed.kind == text.kind and narrowed.attributes == text.attributes


def test_given_findings_outside_the_document_then_they_are_returned_as_they_were() -> None:
    outside = Finding("pii.name", Box(1500, 900, 1600, 930), 0.9, "text", "test")
    face = Finding(FACE, Box(1200, 700, 1300, 800), 0.9, "faces", "test")
    findings = reviewed(page_lines(), [outside, face])
    assert outside in findings and face in findings


def test_given_a_word_ocr_did_not_read_inside_the_document_then_it_is_redacted() -> None:
    paper = np.full((700, 1000, 3), 235, np.uint8)
    cv2.putText(paper, "SVENSK", (700, 300), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2)
    findings = DocumentReviewer(Policy.build("pii"), KEY).review(paper, [], page_lines())
    unread = [f for f in findings if f.attributes.get("field") == "unread"]
    assert any(f.box.x0 <= 705 and f.box.x1 >= 780 and f.box.y0 <= 290 for f in unread)


def test_given_an_unread_word_inside_a_box_tall_and_wide_then_it_is_still_redacted() -> None:
    # a watermark read on a slant (or a vertical number merged with it) comes back as
    # one line whose box spans several rows of the document: it explains only its own
    # text, not the value OCR missed under it
    paper = np.full((700, 1000, 3), 235, np.uint8)
    cv2.putText(paper, "SVENSK", (700, 300), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2)
    slanted = build_lines([run("1112420 SPECIMEN BAT 14", 640, 250, 110, 12)])
    assert slanted[0].box.height > 3 * 22
    findings = DocumentReviewer(Policy.build("pii"), KEY).review(paper, [], page_lines() + slanted)
    unread = [f for f in findings if f.attributes.get("field") == "unread"]
    assert any(f.box.x0 <= 705 and f.box.x1 >= 780 and f.box.y0 <= 290 for f in unread)


@pytest.mark.parametrize("text", ["Nationality GBR", "Sex F", "Nationality:GBR"])
def test_given_a_value_read_with_its_label_then_the_value_part_goes(text: str) -> None:
    page = [*PAGE, (text, 700, 290, 18)]
    lines = page_lines(page)
    findings = reviewed(lines)
    line = next(line for line in lines if line.text == text)
    value = line.words[-1]
    regions = [
        region_for(f, PipelineOptions())
        for f in findings
        if f.kind == DOCUMENT_FIELD
        and abs(f.box.center[1] - line.box.center[1]) < 5
        and f.box.center[0] > line.box.x0
    ]
    assert any(r.x0 <= value.box.x1 - 0.25 * value.box.width for r in regions)  # value covered
    assert all(r.x0 > line.box.x0 + 5 for r in regions)  # the label's start stays


#: Multilingual packaging with words the newer label files know ("derīgs līdz" is a
#: card's expiry label and a jar's best-before; "Latvija" a state name).
PACKAGING_MULTILINGUAL = [
    ("RIGAS BALZAMS", 100, 40, 60),
    ("Derīgs līdz / Best before 12.2026", 100, 170, 18),
    ("Ražots Latvijā / Made in Latvia", 100, 200, 18),
    ("Partijas Nr. / Lot No. 24051 B", 100, 230, 18),
    ("Neto masa / Net weight 250 g", 100, 260, 18),
    ("Uzturvērtība / Nutrition / Maistinė vertė", 100, 300, 18),
    ("Tauki / Fat / Riebalai 21 g", 100, 325, 18),
    ("Grupo de Votación 12 / Provincia / Departamento", 100, 350, 18),
]


def test_given_multilingual_packaging_then_there_is_no_document_and_nothing_is_redacted() -> None:
    lines = build_lines([run(text, x, y, h, 0.55 * h) for text, x, y, h in PACKAGING_MULTILINGUAL])
    assert reviewed(lines) == []
    text = TextDetector(FakeEngine([]), "pii", hash_key=KEY, recognizers=RECOGNIZERS)
    assert text._rules.personal(lines, Policy.build("pii")) == []


def test_given_a_mixed_case_value_set_like_the_values_then_it_is_redacted() -> None:
    # no "/", no label the lexicon knows, as tall as the values: fail closed
    page = [*PAGE, ("No recourse to public funds", 700, 290, 22)]
    lines = page_lines(page)
    assert {"recourse", "funds"} <= covered_texts(lines, reviewed(lines))


def test_given_a_state_word_beside_a_value_word_then_the_line_is_redacted_even_up_top() -> None:
    # a visa's territory, printed in the header band: "Schengen" is always a value
    page = [*PAGE, ("ETATS SCHENGEN", 360, 60, 22)]
    lines = page_lines(page)
    covered = covered_texts(lines, reviewed(lines))
    assert {"ETATS", "SCHENGEN"} <= covered
    assert not {"REPUBLIC", "UTOPIA", "PASSPORT"} & covered


def test_given_a_title_going_on_with_a_value_among_the_values_then_it_is_redacted() -> None:
    page = [*PAGE, ("RESIDENCE PERMIT TEMPORARY", 360, 330, 22)]
    lines = page_lines(page)
    assert {"RESIDENCE", "PERMIT", "TEMPORARY"} <= covered_texts(lines, reviewed(lines))


def test_given_a_title_alone_or_in_the_header_then_it_is_kept() -> None:
    page = [*PAGE, ("RESIDENCE PERMIT", 360, 330, 22), ("TITRE DE SEJOUR K682T8", 40, 60, 22)]
    lines = page_lines(page)
    covered = covered_texts(lines, reviewed(lines))
    assert not {"RESIDENCE", "PERMIT", "TITRE", "SEJOUR"} & covered
    assert "K682T8" in covered


def test_given_small_type_under_a_value_in_words_then_it_is_the_value_going_on() -> None:
    prose = [("voor arbeid is niet vereist", 700, 290, 22), ("niet toepasselijk", 700, 313, 12)]
    page = [*PAGE, *prose]
    lines = page_lines(page)
    assert {"vereist", "toepasselijk"} <= covered_texts(lines, reviewed(lines))


def test_given_a_small_type_label_under_a_value_in_capitals_then_it_is_kept() -> None:
    page = [*PAGE, ("Tmwa Sa Vatis To", 700, 261, 12)]  # right under UTOPIAN
    lines = page_lines(page)
    assert not {"Tmwa", "Vatis"} & covered_texts(lines, reviewed(lines))


def test_given_a_text_finding_over_a_label_and_its_value_then_the_label_stays() -> None:
    lines = page_lines([*PAGE, ("Surname CRITTENDEN", 360, 330, 18)])
    line = next(line for line in lines if line.text == "Surname CRITTENDEN")
    label, value = line.words
    text = Finding("pii.name", line.box, 0.9, "text", "test", None, {"rule": "label-left"})
    (narrowed,) = [f for f in reviewed(lines, [text]) if f.detector == "text"]
    region = region_for(narrowed, PipelineOptions())
    assert region.x0 >= label.box.x1  # the label is left readable...
    assert region.x0 <= value.box.x0 and region.x1 >= value.box.x1  # ...the value goes
    assert region.y0 <= value.box.y0 and region.y1 >= value.box.y1


def test_given_another_rule_flagging_a_kept_label_alone_then_the_label_overrules_it() -> None:
    lines = page_lines()
    label = next(line for line in lines if line.text.startswith("Given names"))
    value = next(line for line in lines if line.text == "ANNA MARIA")
    reaching = label.box.padded(1.0)  # the label as the rule boxed it
    on_label = Finding("pii.name", reaching, 0.6, "text", "test", None, {"rule": "name"})
    on_value = Finding("pii.name", value.box, 0.9, "text", "test", None, {"rule": "name"})
    findings = reviewed(lines, [on_label, on_value])
    kept_by_text = [f for f in findings if f.detector == "text"]
    assert len(kept_by_text) == 1 and kept_by_text[0].box.center[1] > label.box.y1

"""The label review sheets: real label files drawn over their real images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from bench.label_sheet import COLOURS, label_boxes, load_labels, main, sheet_name
from tests.support import shared_image

DOCUMENT = "id_card_lv_specimen.png"


def _pixels(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _top_edge(
    sheet: npt.NDArray[np.uint8], box: tuple[int, int, int, int], scale: float
) -> npt.NDArray[np.uint8]:
    """The outline's inner top row, clear of the corners (where neighbours may cross)."""
    x0, y0, x1 = (round(v * scale) for v in box[:3])
    return sheet[y0 + 1, x0 + 4 : x1 - 4]


def test_given_the_document_labels_then_one_sheet_shows_every_box_in_its_class_colour(
    tmp_path: Path,
) -> None:
    shared_image(DOCUMENT)
    entry = load_labels("real_documents")["images"][DOCUMENT]
    boxes = label_boxes(entry)

    written = main(["real_documents", str(tmp_path), "--only", DOCUMENT, "--scale", "2"])

    assert written == [tmp_path / sheet_name(DOCUMENT)]
    sheet = _pixels(written[0])
    with Image.open(shared_image(DOCUMENT)) as image:
        assert sheet.shape[1] == image.width * 2 and sheet.shape[0] > image.height * 2
    counted = sum(len(entry[group]) for group in ("documents", "personal", "keep"))
    assert len(boxes) == counted
    mrz = next(b for b in boxes if b.label == "personal/mrz/1")
    assert (_top_edge(sheet, mrz.box, 2) == COLOURS["personal/mrz"]).all()
    label = next(b for b in boxes if b.label == "keep/label")
    assert (_top_edge(sheet, label.box, 2) == COLOURS["keep"]).all()


def test_given_a_faces_file_then_heads_and_faces_are_drawn(tmp_path: Path) -> None:
    labels: dict[str, Any] = {
        "_about": "test",
        "images": {
            DOCUMENT: {
                "negative": False,
                "faces": [{"head": [20, 40, 140, 210], "face": [40, 80, 130, 190]}],
            }
        },
    }
    path = tmp_path / "faces.json"
    path.write_text(json.dumps(labels))

    boxes = label_boxes(labels["images"][DOCUMENT])
    [written] = main([str(path), str(tmp_path / "out"), "--scale", "1"])

    assert [b.label for b in boxes] == ["faces/head", "faces/face"]
    sheet = _pixels(written)
    assert (_top_edge(sheet, boxes[0].box, 1) == COLOURS["faces/head"]).all()
    assert (_top_edge(sheet, boxes[1].box, 1) == COLOURS["faces/face"]).all()


def test_given_an_image_not_in_the_file_then_it_is_named_in_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["real_documents", str(tmp_path), "--only", "no_such.png"])

    assert exit_info.value.code == 2
    assert "not in the label file: no_such.png" in capsys.readouterr().err

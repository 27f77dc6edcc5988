"""The real-document scorer: covered and unreadable, portraits by detail, labels kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import real_documents as rd
from redactor.geometry import Box
from testkit.fonts import font


class InkReader:
    """Reads text in every crop with strokes of dark ink on light paper (a stand-in for
    OCR): a row crossing several strokes, not a solid fill's two edges."""

    def read(self, image: np.ndarray) -> list[str]:
        dark = image.mean(axis=2) < 80
        crossings = np.abs(np.diff(dark.astype(np.int8), axis=1)).sum(axis=1)
        return ["SURNAME TRAVELER"] if crossings.max(initial=0) >= 6 else []


def card() -> tuple[np.ndarray, Box, Box]:
    image = Image.new("RGB", (400, 200), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), "Surname", font=font("DejaVuSans.ttf", 18), fill=(20, 20, 20))
    draw.text((40, 100), "TRAVELER", font=font("DejaVuSans.ttf", 24), fill=(20, 20, 20))
    label = Box(*draw.textbbox((40, 40), "Surname", font=font("DejaVuSans.ttf", 18)))
    value = Box(*draw.textbbox((40, 100), "TRAVELER", font=font("DejaVuSans.ttf", 24)))
    return np.asarray(image), label, value


def filled(pixels: np.ndarray, box: Box) -> np.ndarray:
    out = pixels.copy()
    x0, y0, x1, y1 = box.padded(4).to_int()
    out[y0:y1, x0:x1] = 0
    return out


def test_given_a_filled_value_then_it_is_covered_and_unreadable_and_the_label_kept() -> None:
    before, label, value = card()
    after = filled(before, value)
    assert rd.covered_share(before, after, value) == 1.0
    assert rd.covered_share(before, before, value) == 0.0
    field = rd.score_personal(InkReader(), before, after, rd.Item(value, "field", "surname"))
    assert field.ok
    kept = rd.score_keep(InkReader(), before, after, rd.Item(label, "label"))
    assert kept.ok


def test_given_an_untouched_value_then_it_is_missed() -> None:
    before, _, value = card()
    field = rd.score_personal(InkReader(), before, before, rd.Item(value, "field", "surname"))
    assert not field.ok and field.covered == 0.0


def test_given_a_failed_image_then_every_item_is_missed(tmp_path: Path) -> None:
    before, label, value = card()
    truth = rd.Truth([], [rd.Item(value, "field", "surname")], [rd.Item(label, "label")])
    image = tmp_path / "card.png"
    Image.fromarray(before).save(image)
    score = rd.score_image(InkReader(), str(image), truth, lambda data: (None, "corrupt_image", 0))
    metrics = rd.aggregate([score])
    assert metrics["field_recall"] == 0.0 and metrics["failed"] == [str(image)]


def test_labels_file_loads_with_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(
        json.dumps(
            {
                "images": {
                    "a.png": {
                        "documents": [{"box": [0, 0, 10, 10], "type": "passport"}],
                        "personal": [{"box": [1, 1, 5, 5], "kind": "mrz", "line": 1}],
                        "keep": [{"box": [1, 1, 5, 5], "kind": "title"}],
                    }
                }
            }
        )
    )
    truth = rd.load_labels(path)["a.png"]
    assert truth.personal[0].line == 1 and truth.keep[0].kind == "title"


class BandReader:
    """Reads one word per band of dark rows, named after where the band is in the crop
    (a stand-in for OCR that reads whatever text the crop holds, neighbours included)."""

    def read(self, image: np.ndarray) -> list[str]:
        ink = image.mean(axis=2) < 80
        dark = np.abs(np.diff(ink.astype(np.int8), axis=1)).sum(axis=1) >= 6  # strokes
        words, start = [], None
        for y, row in enumerate([*dark, False]):
            if row and start is None:
                start = y
            elif not row and start is not None:
                words.append(f"BAND{len(words)}X{y - start}")
                start = None
        return words


def test_given_a_kept_label_right_above_a_filled_value_then_the_value_is_not_read_in_it() -> None:
    before, label, value = card()
    value = Box(value.x0, label.y1 + 2, value.x1, value.y1)  # the label within half a height
    after = filled(before, value)
    field = rd.score_personal(BandReader(), before, after, rd.Item(value, "field", "surname"))
    assert field.ok
    kept = rd.score_keep(BandReader(), before, after, rd.Item(label, "label"))
    assert kept.ok


def test_given_an_unlabelled_name_to_score_alone_then_the_run_stops_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        rd.main(["--only", "no_such_card.png", "--out", "/nonexistent"])
    assert stop.value.code == 2
    assert "no_such_card.png" in capsys.readouterr().err

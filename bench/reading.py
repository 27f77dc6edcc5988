"""What OCR can still read in an output: RapidOCR on a scaled crop around an item, and
the edit distance from the item's text to what it read."""

from __future__ import annotations

import unicodedata
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from bench.cases import TextItem
from redactor.geometry import Box

Pixels = npt.NDArray[np.uint8]

#: Crops are scaled so the item's box is this tall (tilted lines a bit more), which is
#: where PP-OCR reads best (its recogniser works on 48 px high lines).
READING_HEIGHT = 40.0


class TextReader(Protocol):
    """Reads the text in an RGB image; the lines, in any order."""

    def read(self, image: Pixels) -> list[str]: ...


class RapidReader:
    """RapidOCR with the PP-OCRv6 models of its wheel, checked against ``models/manifest.json``.

    The scorer calls RapidOCR directly, not redactor's text detector: it only asks what
    can be read, never what is personal.
    """

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        import models

        self._ocr = RapidOCR(
            params={
                "Det.model_path": str(models.verified_path("ppocr-det")),
                "Rec.model_path": str(models.verified_path("ppocr-rec")),
                "Cls.model_path": str(models.verified_path("ppocr-cls")),
                "Global.log_level": "error",
                # Crops come pre-scaled (see read_distance); RapidOCR's default would
                # enlarge every crop to 736 px on its short side, 20x the work on a line.
                "Det.limit_type": "max",
                "Det.limit_side_len": 2000,
            }
        )

    def read(self, image: Pixels) -> list[str]:
        result = self._ocr(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return [str(text) for text in (getattr(result, "txts", None) or ())]


def crop_box(pixels: Pixels, box: Box) -> Pixels:
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = box.clipped(w, h).to_int()
    return pixels[y0:y1, x0:x1]


def normalise(text: str) -> str:
    """Case-folded letters and digits only: OCR spacing and punctuation do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def substring_distance(needle: str, haystack: str) -> float:
    """Edit distance from ``needle`` to the closest substring of ``haystack``, over len(needle).

    0 when the needle is read exactly somewhere, 1 when nothing of it is (Sellers'
    algorithm: a free start and end in the haystack).
    """
    if not needle:
        return 0.0
    previous = [0] * (len(haystack) + 1)
    for i, a in enumerate(needle, 1):
        current = [i] + [0] * len(haystack)
        for j, b in enumerate(haystack, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
        previous = current
    return min(previous) / len(needle)


def reading_box(box: Box) -> Box:
    """The crop OCR sees around an item: half its height of margin on every side."""
    return box.padded(max(6.0, box.height / 2))


def read_distance(reader: TextReader, pixels: Pixels, item: TextItem) -> float:
    """How far what OCR reads around the item is from the item's text (0 = read exactly)."""
    region = crop_box(pixels, reading_box(item.box))
    if region.size == 0:
        return 1.0
    scale = READING_HEIGHT / max(1.0, item.box.height)
    size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = np.asarray(cv2.resize(region, size, interpolation=interpolation), dtype=np.uint8)
    read = "".join(normalise(line) for line in reader.read(scaled))
    return substring_distance(normalise(item.text), read)

"""What the corpus is made of: its cases, the text items in them, and the corpus on disk.

Also the ground truth it starts from: the eye-checked face boxes and product text of
the real photos (``tests/data/face_boxes.json``, completed and corrected by
``bench/data/face_boxes.json``; ``bench/data/product_text.json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from redactor.geometry import Box
from testkit.paths import ROOT, shared_path
from testkit.photos import sample_photo, upright_rgb

Pixels = npt.NDArray[np.uint8]

DATA = Path(__file__).resolve().parent / "data"
TESTS_FACE_BOXES = ROOT / "tests" / "data" / "face_boxes.json"
ASTRONAUT = "skimage:astronaut"
SHARED_PREFIX = "shared:"
REAL, COMPOSITE, TEXT_SCENE, CAMERA = "real_photo", "composite_face", "text_scene", "camera_jpeg"
DOCUMENT = "id_document"
PRODUCT = "product"
#: Generated document field labels and titles: they must stay readable (scored apart).
LABEL = "label"


@dataclass(frozen=True, slots=True)
class TextItem:
    """Rendered text and its ink box. ``kind`` is ``pii.<kind>`` or ``product``."""

    box: Box
    kind: str
    #: The string. Personal strings are Faker inventions kept in memory for the scorer's
    #: OCR comparison; they are never written to the manifest or any report.
    text: str

    @property
    def personal(self) -> bool:
        return self.kind.startswith("pii.")


@dataclass
class Case:
    """One image and what is in it."""

    id: str
    kind: str
    #: Relative to the corpus folder, or ``shared:<name>`` for a shared photo read in place.
    path: str
    upright_size: tuple[int, int]
    faces: list[Box] = field(default_factory=list)
    #: Regions where redaction is neither required nor a false positive.
    ignore: list[Box] = field(default_factory=list)
    text: list[TextItem] = field(default_factory=list)
    orientation: int = 1
    marker: Box | None = None
    metadata_planted: list[str] = field(default_factory=list)
    #: Byte strings planted in metadata (invented names, serials); memory only.
    canaries: list[bytes] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def pii_text(self) -> list[TextItem]:
        return [t for t in self.text if t.personal]

    @property
    def product_text(self) -> list[TextItem]:
        return [t for t in self.text if t.kind == PRODUCT]

    def manifest_entry(self) -> dict[str, Any]:
        """The case as written to the manifest: boxes and kinds, no personal strings."""
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "faces": [{"box": b.as_list()} for b in self.faces],
            "ignore": [{"box": b.as_list()} for b in self.ignore],
            "pii_text": [{"box": t.box.as_list(), "kind": t.kind} for t in self.pii_text],
            "product_text": [{"box": t.box.as_list(), "text": t.text} for t in self.product_text],
            "metadata_expected_clean": True,
            "metadata_planted": self.metadata_planted,
            "upright_size": list(self.upright_size),
            "orientation": self.orientation,
            "marker": None if self.marker is None else {"box": self.marker.as_list()},
            "attributes": self.attributes,
        }


@dataclass
class Corpus:
    root: Path
    cases: list[Case]
    seed: int
    quick: bool

    def path_of(self, case: Case) -> Path:
        if case.path.startswith(SHARED_PREFIX):
            return shared_path(case.path.removeprefix(SHARED_PREFIX))
        return self.root / case.path

    def read(self, case: Case) -> bytes:
        return self.path_of(case).read_bytes()


# --- ground truth of the real photos ----------------------------------------------------------


@dataclass(frozen=True)
class PhotoTruth:
    faces: list[Box]
    ignore: list[Box]
    product: list[TextItem]


def _boxes(raw: Sequence[Sequence[float]]) -> list[Box]:
    return [Box(*map(float, b)) for b in raw]


@cache
def labelled_photos() -> dict[str, PhotoTruth]:
    """Every photo whose clear faces are all boxed, by name.

    ``bench/data/face_boxes.json`` holds the complete truth of the photos it lists;
    the other photos of ``tests/data/face_boxes.json`` keep the boxes listed there.
    """
    tests = {k: v for k, v in json.loads(TESTS_FACE_BOXES.read_text()).items() if k[0] != "_"}
    bench = json.loads((DATA / "face_boxes.json").read_text())["images"]
    product = json.loads((DATA / "product_text.json").read_text())["images"]
    truth = {}
    for name in sorted({*tests, *bench}, key=lambda n: (n != ASTRONAUT, n)):
        entry = bench.get(name, {"faces": tests.get(name, []), "ignore": []})
        truth[name] = PhotoTruth(
            faces=_boxes(entry["faces"]),
            ignore=_boxes(entry["ignore"]),
            product=[
                TextItem(Box(*map(float, p["box"])), PRODUCT, p["text"])
                for p in product.get(name, [])
            ],
        )
    return truth


@cache
def upright_pixels(name: str) -> Pixels:
    """A source photo's upright RGB pixels (transparency flattened onto white)."""
    if name == ASTRONAUT:
        return np.asarray(sample_photo("astronaut"))
    return upright_rgb(shared_path(name))

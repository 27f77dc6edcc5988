"""The speed benchmark's images: deterministic JPEG scenes with known face and text boxes.

Each scene is a table-top product photo (scikit-image's coffee, cat or rocket picture,
scaled to the canvas) with, placed at seeded random spots that never overlap:

* four photo prints holding faces with known boxes: scikit-image's astronaut and public
  photos from ``../shared/test-images`` (read-only) whose every frontal face is boxed in
  ``tests/data/face_boxes.json``. At 1600x1200 the faces are about 30 to 250 px wide;
* a shipping label and a card with personal text invented by Faker (seeded): names,
  street addresses, phones, e-mails, UPS tracking numbers, IBANs;
* a product panel whose text must stay readable.

The ``1600x1200-studio`` scenes hold the same things on a plain studio backdrop (a
light sweep with sensor-like noise) instead of a photo: the flat lay of a product
studio, where the detectors skip the backdrop (``redactor/detail.py``).

The 4000x3000 scenes are the same scenes drawn 2.5 times larger (a phone photo of the
same table): the same random draws, every size and font scaled, so the two sizes differ
only in pixels. Face boxes are the source boxes mapped through crop, scale and placement;
text boxes come from masks drawn alone through the same tilt (as in
``testkit/panels.py``). The manifest holds kinds and boxes, never text.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker
from PIL import Image, ImageOps

from redactor.geometry import Box, union_box
from testkit.cards import de_remittance, uk_business_card, us_shipping_label
from testkit.layout import Layout, fractional_spots
from testkit.panels import PRODUCT, Panel, product, render_panel
from testkit.paths import ROOT, shared_path
from testkit.people import faker
from testkit.photos import photo_background, sample_photo

FACE_BOXES = ROOT / "tests" / "data" / "face_boxes.json"
ASTRONAUT = "skimage:astronaut"
#: Photos whose every frontal face has a checked box (profiles and crowds are left out).
FACE_SOURCES = (
    ASTRONAUT,
    "face_portrait_studio.png",
    "face_wearing_cap_glasses.jpg",
    "face_hand_occlusion.jpg",
    "face_two_nikon_exif.jpg",
    "face_holding_award.jpg",
    "face_go_players_name_cards.jpg",
    "face_portrait_closeup.jpg",
)
#: Face widths at the 1600 px base: group shots up to close-ups.
FACE_WIDTHS = (36, 48, 64, 90, 130, 180, 260)
BACKGROUNDS = ("coffee", "chelsea", "rocket")
BASE_WIDTH = 1600
SIZES: dict[str, tuple[int, int]] = {
    "1600x1200": (1600, 1200),
    "4000x3000": (4000, 3000),
    "1600x1200-studio": (1600, 1200),
}
STUDIO = "studio"
PRINTS_PER_SCENE = 4
JPEG_QUALITY = 90
TEXT_FONTS = (
    "LiberationSans-Regular.ttf",
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "FreeSans.ttf",
    "LiberationSerif-Regular.ttf",
    "NotoSerif-Regular.ttf",
)
BRANDS = ("NORDKAFFE", "SPRUDELHOF", "MOUNTAIN TEA", "OLIVIA", "BERGBROT", "LUMEN")
PRODUCTS = ("ORGANIC COFFEE", "Mineralwasser", "GREEN TEA", "Olive Oil", "Rye Bread", "Candles")


@dataclass(frozen=True)
class Truth:
    """What must be redacted (faces, personal text by kind) and what must stay (product)."""

    faces: tuple[Box, ...]
    personal: tuple[tuple[str, Box], ...]
    product: tuple[Box, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "faces": [b.as_list() for b in self.faces],
            "personal": [{"kind": k, "box": b.as_list()} for k, b in self.personal],
            "product": [b.as_list() for b in self.product],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Truth:
        return Truth(
            tuple(_box(b) for b in data["faces"]),
            tuple((str(p["kind"]), _box(p["box"])) for p in data["personal"]),
            tuple(_box(b) for b in data["product"]),
        )


def _box(value: Sequence[float]) -> Box:
    x0, y0, x1, y1 = (float(v) for v in value)
    return Box(x0, y0, x1, y1)


@dataclass(frozen=True)
class BenchImage:
    name: str
    size: tuple[int, int]
    data: bytes
    truth: Truth


@dataclass(frozen=True)
class FacePhoto:
    """A photo cropped around its faces, with the face boxes in crop coordinates."""

    image: Image.Image
    faces: tuple[Box, ...]


# --- faces ----------------------------------------------------------------------------------


@cache
def face_photo(source: str) -> FacePhoto:
    """``source`` cropped to its faces plus a margin of 0.7 face widths on each side."""
    image, boxes = _load_face_source(source)
    faces = union_box(boxes)
    margin = 0.7 * max(b.width for b in boxes)
    x0, y0, x1, y1 = faces.padded(margin).clipped(image.width, image.height).to_int()
    crop = image.crop((x0, y0, x1, y1))
    return FacePhoto(crop, tuple(b.shifted(-x0, -y0) for b in boxes))


def _load_face_source(source: str) -> tuple[Image.Image, list[Box]]:
    boxes = [Box(*map(float, b)) for b in json.loads(FACE_BOXES.read_text())[source]]
    if source == ASTRONAUT:
        return sample_photo("astronaut"), boxes
    with Image.open(shared_path(source)) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB"), boxes


def _print(photo: FacePhoto, face_width: float, max_side: float) -> tuple[Image.Image, float]:
    """The photo scaled so its mean face is ``face_width`` wide (capped at ``max_side``)."""
    mean_face = sum(b.width for b in photo.faces) / len(photo.faces)
    scale = min(face_width / mean_face, max_side / max(photo.image.size))
    size = (max(1, round(photo.image.width * scale)), max(1, round(photo.image.height * scale)))
    return photo.image.resize(size, Image.Resampling.LANCZOS), scale


# --- text -----------------------------------------------------------------------------------


def _label(fake: Faker, text_font: str, angle: float) -> Panel:
    return Panel(
        lines=us_shipping_label(fake),
        font=text_font,
        size=26,
        angle=angle,
    )


def _business_card(seed: int, text_font: str, angle: float) -> Panel:
    fake = faker("en_GB", seed)
    return Panel(
        lines=uk_business_card(fake),
        font=text_font,
        size=24,
        sizes=[40, 24, 24, 24, 24, 24],
        angle=angle,
    )


def _remittance_card(seed: int, text_font: str, angle: float) -> Panel:
    fake = faker("de_DE", seed)
    return Panel(
        lines=de_remittance(fake),
        font=text_font,
        size=26,
        angle=angle,
    )


def _product_panel(seed: int, angle: float) -> Panel:
    return Panel(
        lines=[
            [product(BRANDS[seed % len(BRANDS)])],
            [product(PRODUCTS[seed % len(PRODUCTS)])],
            [product("Ingredients: roasted arabica beans")],
            [product(f"{250 * (1 + seed % 4)} ml")],
            [product(f"BEST BEFORE {1 + seed % 12:02d}/2027")],
        ],
        font="DejaVuSans-Bold.ttf",
        size=22,
        sizes=[60, 36, 22, 22, 22],
        angle=angle,
        paper=(92, 58, 34),
        ink=(245, 235, 210),
    )


def _background(name: str, size: tuple[int, int]) -> Image.Image:
    return _studio_backdrop(size) if name == STUDIO else photo_background(name, size)


def _studio_backdrop(size: tuple[int, int]) -> Image.Image:
    """A paper sweep: light grey, brighter towards the bottom, with faint grain."""
    width, height = size
    sweep = np.linspace(232.0, 246.0, height, dtype=np.float32)[:, None, None]
    grain = np.random.default_rng(height).normal(0.0, 1.2, (height, width, 1))
    pixels = np.clip(sweep + grain + np.array([0.0, 0.0, 2.0]), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


# --- scenes ---------------------------------------------------------------------------------


def scene(seed: int, size: tuple[int, int], backdrop: str | None = None) -> BenchImage:
    """Scene ``seed`` drawn at ``size`` on ``backdrop`` (default: a photo chosen by the
    seed; or :data:`STUDIO`); the same seed gives the same bytes."""
    rng = random.Random(seed)
    scale = size[0] / BASE_WIDTH
    canvas = _background(backdrop or BACKGROUNDS[seed % len(BACKGROUNDS)], size)
    layout = Layout(fractional_spots(rng, size), gap=12 * scale)
    personal: list[tuple[str, Box]] = []
    kept: list[Box] = []
    for panel in _panels(seed, rng):
        card, boxes = render_panel(panel, scale)
        at = layout.place(*card.size)
        if at is None:
            continue
        canvas.paste(card, at, card)
        for segment, box in boxes:
            if segment.personal and segment.kind:
                personal.append((segment.kind, box.shifted(*at)))
            elif segment.kind == PRODUCT:
                kept.append(box.shifted(*at))
    faces = _paste_prints(canvas, rng, layout, scale)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=JPEG_QUALITY)
    name = f"{backdrop or 'scene'}{seed:02d}_{size[0]}x{size[1]}"
    return BenchImage(name, size, buffer.getvalue(), Truth(faces, tuple(personal), tuple(kept)))


def _panels(seed: int, rng: random.Random) -> list[Panel]:
    fonts = [rng.choice(TEXT_FONTS) for _ in range(2)]
    angles = [rng.uniform(-3, 3) for _ in range(3)]
    card = _business_card if seed % 2 else _remittance_card
    return [
        _label(faker("en_US", seed), fonts[0], angles[0]),
        card(seed, fonts[1], angles[1]),
        _product_panel(seed, angles[2]),
    ]


def _paste_prints(
    canvas: Image.Image, rng: random.Random, layout: Layout, scale: float
) -> tuple[Box, ...]:
    sources = rng.sample(FACE_SOURCES, PRINTS_PER_SCENE)
    widths = sorted((rng.choice(FACE_WIDTHS) for _ in sources), reverse=True)
    faces: list[Box] = []
    for source, width in zip(sources, widths, strict=True):
        photo = face_photo(source)
        printed, factor = _print(photo, width * scale, 0.42 * min(canvas.size))
        at = layout.place(*printed.size)
        if at is None:
            continue
        canvas.paste(printed, at)
        faces += [box.times(factor).shifted(*at) for box in photo.faces]
    return tuple(faces)


def image_set(size: str, count: int) -> list[BenchImage]:
    """``count`` scenes (seeds 0, 1, ...) at ``size``, one of :data:`SIZES`."""
    backdrop = STUDIO if size.endswith("-" + STUDIO) else None
    return [scene(seed, SIZES[size], backdrop) for seed in range(count)]


def write_set(images: Sequence[BenchImage], folder: Path) -> list[Path]:
    """Write the JPEGs and ``manifest.json`` (names, sizes, boxes) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.jpg"):
        stale.unlink()
    paths = []
    for image in images:
        path = folder / f"{image.name}.jpg"
        path.write_bytes(image.data)
        paths.append(path)
    manifest = {i.name: {"size": list(i.size), **i.truth.as_dict()} for i in images}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return paths


def read_truth(folder: Path) -> dict[str, Truth]:
    """The boxes :func:`write_set` stored, by image name."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return {name: Truth.from_dict(entry) for name, entry in manifest.items()}

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
``tests/integration/text_render.py``). The manifest holds kinds and boxes, never text.
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
from PIL import Image, ImageDraw, ImageFont, ImageOps

from redactor.geometry import Box, union_box
from redactor.pii.tracking import ups_valid

ROOT = Path(__file__).resolve().parents[1]
SHARED_IMAGES = ROOT.parent / "shared" / "test-images"
FONT_ROOT = Path("/usr/share/fonts")
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

PII, PRODUCT = "pii", "product"


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
class Segment:
    text: str
    role: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Panel:
    """Lines of segments on a card; sizes are at the 1600 px base."""

    lines: Sequence[Sequence[Segment]]
    font: str
    sizes: Sequence[int]
    angle: float
    paper: tuple[int, int, int] = (248, 246, 240)
    ink: tuple[int, int, int] = (20, 20, 25)


@dataclass(frozen=True)
class FacePhoto:
    """A photo cropped around its faces, with the face boxes in crop coordinates."""

    image: Image.Image
    faces: tuple[Box, ...]


def _pii(text: str, kind: str) -> Segment:
    return Segment(text, PII, kind)


def _product(text: str) -> Segment:
    return Segment(text, PRODUCT)


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
        from skimage import data

        return Image.fromarray(data.astronaut()).convert("RGB"), boxes  # type: ignore[no-untyped-call]
    path = SHARED_IMAGES / source
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: is ../shared/ beside the repository?")
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB"), boxes


def _print(photo: FacePhoto, face_width: float, max_side: float) -> tuple[Image.Image, float]:
    """The photo scaled so its mean face is ``face_width`` wide (capped at ``max_side``)."""
    mean_face = sum(b.width for b in photo.faces) / len(photo.faces)
    scale = min(face_width / mean_face, max_side / max(photo.image.size))
    size = (max(1, round(photo.image.width * scale)), max(1, round(photo.image.height * scale)))
    return photo.image.resize(size, Image.Resampling.LANCZOS), scale


# --- text -----------------------------------------------------------------------------------


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A TrueType font from Debian's font packages (scripts/system-deps.sh installs them)."""
    found = sorted(FONT_ROOT.rglob(name))
    if not found:
        raise FileNotFoundError(f"font {name} is missing: run `make system-deps`")
    return ImageFont.truetype(str(found[0]), size)


def faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def valid_phone(fake: Faker, pattern: str, region: str) -> str:
    """A number in ``pattern`` ("#" = digit) that libphonenumber accepts for ``region``."""
    import phonenumbers

    for _ in range(1000):
        number = fake.numerify(pattern)
        if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
            return number
    raise ValueError(f"no valid {region} number for {pattern}")


def ups_number(fake: Faker) -> str:
    """A UPS 1Z tracking number with a correct check digit, printed in groups."""
    body = "1Z" + fake.bothify("###???##").upper() + fake.numerify("#######")
    number = next(body + d for d in "0123456789" if ups_valid(body + d))
    return " ".join(
        (number[:2], number[2:5], number[5:8], number[8:10], number[10:14], number[14:])
    )


def spaced(number: str, group: int = 4) -> str:
    return " ".join(number[i : i + group] for i in range(0, len(number), group))


def _label(fake: Faker, text_font: str, angle: float) -> Panel:
    return Panel(
        lines=[
            [Segment("SHIP TO:")],
            [_pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [_pii(fake.street_address(), "pii.address")],
            [_pii(f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}", "pii.address")],
            [Segment("Tel: "), _pii(valid_phone(fake, "(###) ###-####", "US"), "pii.phone")],
            [Segment("TRACKING #: "), _pii(ups_number(fake), "pii.tracking")],
            [Segment("E-mail: "), _pii(fake.free_email(), "pii.email")],
        ],
        font=text_font,
        sizes=[26] * 7,
        angle=angle,
    )


def _business_card(seed: int, text_font: str, angle: float) -> Panel:
    fake = faker("en_GB", seed)
    return Panel(
        lines=[
            [_pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [Segment("Sales Manager")],
            [_pii(fake.company_email(), "pii.email")],
            [Segment("Mobile "), _pii(valid_phone(fake, "+44 20 7### ####", "GB"), "pii.phone")],
            [_pii(fake.street_address().replace("\n", ", "), "pii.address")],
            [_pii(f"{fake.city()} {fake.postcode()}", "pii.address")],
        ],
        font=text_font,
        sizes=[40, 24, 24, 24, 24, 24],
        angle=angle,
    )


def _remittance_card(seed: int, text_font: str, angle: float) -> Panel:
    fake = faker("de_DE", seed)
    return Panel(
        lines=[
            [Segment("Empfänger:")],
            [_pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [_pii(fake.street_address(), "pii.address")],
            [_pii(f"{fake.postcode()} {fake.city()}", "pii.address")],
            [Segment("IBAN "), _pii(spaced(fake.iban()), "pii.iban")],
        ],
        font=text_font,
        sizes=[26] * 5,
        angle=angle,
    )


def _product_panel(seed: int, angle: float) -> Panel:
    return Panel(
        lines=[
            [_product(BRANDS[seed % len(BRANDS)])],
            [_product(PRODUCTS[seed % len(PRODUCTS)])],
            [_product("Ingredients: roasted arabica beans")],
            [_product(f"{250 * (1 + seed % 4)} ml")],
            [_product(f"BEST BEFORE {1 + seed % 12:02d}/2027")],
        ],
        font="DejaVuSans-Bold.ttf",
        sizes=[60, 36, 22, 22, 22],
        angle=angle,
        paper=(92, 58, 34),
        ink=(245, 235, 210),
    )


def _draw_panel(
    panel: Panel, scale: float
) -> tuple[Image.Image, list[tuple[Segment, Image.Image]]]:
    """The tilted card and, per segment, its ink drawn alone through the same tilt."""
    sizes = [max(8, round(s * scale)) for s in panel.sizes]
    fonts = [font(panel.font, s) for s in sizes]
    pad = max(sizes) // 2 + round(8 * scale)
    widths = [
        sum(f.getlength(s.text) for s in line) for f, line in zip(fonts, panel.lines, strict=True)
    ]
    heights = [round(s * 1.45) for s in sizes]
    size = (int(max(widths)) + 2 * pad, sum(heights) + 2 * pad)
    card = Image.new("RGBA", size, (*panel.paper, 255))
    draw = ImageDraw.Draw(card)
    masks = []
    y = pad
    for f, line, height in zip(fonts, panel.lines, heights, strict=True):
        x = float(pad)
        for segment in line:
            draw.text((x, y), segment.text, font=f, fill=(*panel.ink, 255))
            if segment.role:
                mask = Image.new("L", size, 0)
                ImageDraw.Draw(mask).text((x, y), segment.text, font=f, fill=255)
                masks.append((segment, mask))
            x += f.getlength(segment.text)
        y += height
    tilted = card.rotate(panel.angle, Image.Resampling.BICUBIC, expand=True)
    rotate = Image.Resampling.BILINEAR
    return tilted, [(s, m.rotate(panel.angle, rotate, expand=True)) for s, m in masks]


def _ink_box(mask: Image.Image) -> Box | None:
    ys, xs = np.nonzero(np.asarray(mask) > 96)
    if len(xs) == 0:
        return None
    return Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


# --- layout ---------------------------------------------------------------------------------


class _Layout:
    """Seeded, non-overlapping placement on a canvas.

    Positions are drawn as fractions of the free range, so a scene drawn at another
    scale with the same seed puts everything in the same relative place.
    """

    def __init__(self, rng: random.Random, width: int, height: int, gap: float) -> None:
        self.rng = rng
        self.width, self.height, self.gap = width, height, gap
        self.taken: list[Box] = []

    def place(self, width: int, height: int, tries: int = 400) -> tuple[int, int] | None:
        draws = [(self.rng.random(), self.rng.random()) for _ in range(tries)]
        for u, v in draws:
            x = round(u * max(0, self.width - width))
            y = round(v * max(0, self.height - height))
            box = Box(x, y, x + width, y + height)
            if all(_apart(box, other, self.gap) for other in self.taken):
                self.taken.append(box)
                return x, y
        return None


def _apart(a: Box, b: Box, gap: float) -> bool:
    return a.x1 + gap <= b.x0 or b.x1 + gap <= a.x0 or a.y1 + gap <= b.y0 or b.y1 + gap <= a.y0


def _background(name: str, size: tuple[int, int]) -> Image.Image:
    if name == STUDIO:
        return _studio_backdrop(size)
    from skimage import data

    pixels = getattr(data, name)()
    return Image.fromarray(pixels).convert("RGB").resize(size, Image.Resampling.BICUBIC)


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
    layout = _Layout(rng, *size, gap=12 * scale)
    personal: list[tuple[str, Box]] = []
    product: list[Box] = []
    for panel in _panels(seed, rng):
        tilted, masks = _draw_panel(panel, scale)
        at = layout.place(*tilted.size)
        if at is None:
            continue
        canvas.paste(tilted, at, tilted)
        for segment, mask in masks:
            box = _ink_box(mask)
            if box is None:
                continue
            if segment.role == PII:
                personal.append((segment.kind, box.shifted(*at)))
            else:
                product.append(box.shifted(*at))
    faces = _paste_prints(canvas, rng, layout, scale)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=JPEG_QUALITY)
    name = f"{backdrop or 'scene'}{seed:02d}_{size[0]}x{size[1]}"
    return BenchImage(name, size, buffer.getvalue(), Truth(faces, tuple(personal), tuple(product)))


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
    canvas: Image.Image, rng: random.Random, layout: _Layout, scale: float
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

"""A labelled evaluation corpus, built deterministically from a seed.

Four kinds of case, all with ground truth in upright pixel coordinates:

* ``real_photo``: public photos from ``../shared/test-images/`` (read in place, never
  copied) and scikit-image's astronaut, with face boxes checked by eye
  (``tests/data/face_boxes.json``, completed and corrected by ``bench/data/face_boxes.json``,
  which also marks regions to ignore: faces cut by the frame, on posters, in reflections).
* ``composite_face``: faces cut from those photos (feathered ellipses) pasted onto
  product-photo scenes at 1600x1200, from 20 px wide up, with rendered packaging.
* ``text_scene``: personal text invented by Faker (names, addresses, phones, e-mails,
  IBANs, card numbers, UPS tracking numbers, plates) on labels, receipts, screens,
  business cards, plates and stickers, next to product text that must stay readable;
  several fonts, sizes, tilts, blurs, JPEG qualities and lossless PNGs.
* ``camera_jpeg``: camera-style JPEGs with EXIF (GPS, serial numbers, MakerNote, an
  IFD1 thumbnail), XMP, IPTC and a comment, stored under EXIF orientations 1 to 8,
  with a red marker in the upright top-left corner.

Every text segment and face is drawn with a mask that goes through the same tilt and
placement, so boxes are exact. The manifest never holds personal strings: they live
only in memory (:attr:`TextItem.text`, :attr:`Case.canaries`) for the scorer of the
same run, which regenerates the corpus (same seed, same bytes) rather than storing them.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import shutil
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from faker import Faker
from PIL import Image, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

from redactor.geometry import Box
from testkit.layout import Layout, margin_spots
from testkit.panels import Panel, Segment, pii, render_panel
from testkit.panels import product as _product
from testkit.paths import ROOT, SHARED_IMAGES, shared_path
from testkit.people import faker, grouped, ups_number, valid_phone
from testkit.photos import sample_photo, upright_rgb

DATA = Path(__file__).resolve().parent / "data"
TESTS_FACE_BOXES = ROOT / "tests" / "data" / "face_boxes.json"
DEFAULT_OUT = ROOT / "bench-out" / "corpus"
MANIFEST = "manifest.json"
SEED = 20261122
CANVAS = (1600, 1200)
LAYOUT_GAP = 30
#: Cards of the corpus have a little more paper around their text than the default.
_card = partial(Panel, margin=10)
ASTRONAUT = "skimage:astronaut"
SHARED_PREFIX = "shared:"

REAL, COMPOSITE, TEXT_SCENE, CAMERA = "real_photo", "composite_face", "text_scene", "camera_jpeg"
DOCUMENT = "id_document"
PRODUCT = "product"
#: Generated document field labels and titles: they must stay readable (scored apart).
LABEL = "label"
#: Generated documents: format and second label language of each, in turn.
DOCUMENT_LAYOUTS = (
    ("TD3", "fr"),
    ("TD1", "de"),
    ("TD3", "es"),
    ("TD1", "it"),
    ("TD3", "pl"),
    ("TD1", "nl"),
    ("TD3", "sv"),
    ("TD1", "ro"),
    ("TD3", "cs"),
    ("TD1", "pt"),
)

RGB = tuple[int, int, int]
Pixels = npt.NDArray[np.uint8]

#: Fonts for rendered text (TrueType, from Debian packages: see testkit.fonts).
FONTS = (
    "DejaVuSans.ttf",
    "LiberationSerif-Regular.ttf",
    "NotoSans-Regular.ttf",
    "FreeSans.ttf",
    "LiberationSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "NotoSerif-Regular.ttf",
    "LiberationSans-Regular.ttf",
    "FreeSerif.ttf",
    "NotoSans-Bold.ttf",
)
MONO_FONTS = ("LiberationMono-Regular.ttf", "DejaVuSansMono.ttf", "FreeMono.ttf")
BOLD_FONT = "DejaVuSans-Bold.ttf"

#: Faces that are cut out for composites: (image, index into that image's face boxes).
#: Frontal or three-quarter faces of 60 px or more, with no other face inside 1.6x the box.
COMPOSITE_SOURCES: tuple[tuple[str, int], ...] = (
    (ASTRONAUT, 0),
    ("face_portrait_studio.png", 0),
    ("face_wearing_cap_glasses.jpg", 0),
    ("face_holding_award.jpg", 0),
    ("face_group_cheering.jpg", 12),
    ("face_portrait_closeup.jpg", 0),
    ("face_group_cheering.jpg", 9),
    ("face_go_players_name_cards.jpg", 1),
    ("face_group_cheering.jpg", 17),
    ("face_hand_occlusion.jpg", 0),
)
#: Face widths in composites, in pixels on the 1600x1200 canvas.
FACE_WIDTHS = (20, 160, 28, 96, 40, 260, 24, 64, 200, 32, 128, 48)
#: The crop around a face box that is pasted, and the feathered ellipse kept of it.
CROP_SCALE = 1.6
KEEP_SCALE = 1.45

PRODUCTS: tuple[tuple[str, str, str, str], ...] = (
    ("NORDKAFFE", "Organic Coffee", "250 g", "Ingredients: roasted arabica beans"),
    ("SPRUDELHOF", "Mineral Water", "12 x 330 ml", "Natural sparkling water"),
    ("OLIVETTA", "Extra Virgin Olive Oil", "500 ml", "Cold pressed olives"),
    ("KORNBLUME", "Oat Biscuits", "200 g", "Ingredients: oats, sugar, butter"),
    ("BRIGHTLEAF", "Green Tea", "20 bags", "Keep dry and away from light"),
    ("AQUAVIVA", "Shower Gel", "750 ml", "Dermatologically tested"),
)
#: scikit-image sample photos that look like products (no faces, no animals).
PRODUCT_PHOTOS = ("coffee", "coins", "clock", "colorwheel", "rocket")
PAPER_COLOURS: tuple[RGB, ...] = ((92, 58, 34), (20, 70, 120), (180, 30, 40), (30, 110, 60))
SURFACES = ("label", "receipt", "screen", "packaging", "card", "plate")
LOCALES = ("en_US", "en_GB", "de_DE", "nl_NL", "fr_FR")
TEXT_SIZES = (18, 26, 34, 22, 42, 16, 30)
BLURS = (0.0, 0.0, 0.8, 0.0, 1.3)
JPEG_QUALITIES = (92, 80, 65, 55)
#: Phone patterns ("#" is a digit) that libphonenumber accepts, per locale.
PHONE_PATTERNS = {
    "en_US": ("(###) ###-####", "US"),
    "en_GB": ("+44 20 7### ####", "GB"),
    "de_DE": ("+49 30 #######", "DE"),
    "nl_NL": ("+31 20 ### ####", "NL"),
    "fr_FR": ("+33 1 ## ## ## ##", "FR"),
}
MARKER = Box(50, 50, 140, 140)
MARKER_COLOUR: RGB = (220, 20, 30)


# --- the corpus as data ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class Plan:
    """How many cases of each kind; the quick plan is the smoke test's."""

    real: tuple[str, ...]
    composites: int
    texts: int
    orientations: tuple[int, ...]
    documents: int = 0


QUICK = Plan(
    real=(ASTRONAUT, "face_group_cheering.jpg", "product_hands_no_face.jpg"),
    composites=3,
    texts=4,
    orientations=(6, 3),
)


def full_plan() -> Plan:
    return Plan(
        real=tuple(labelled_photos()),
        composites=16,
        texts=30,
        orientations=(1, 2, 3, 4, 5, 6, 7, 8, 6, 8, 3, 5),
        documents=len(DOCUMENT_LAYOUTS),
    )


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


# --- drawing -----------------------------------------------------------------------------------


def background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A studio-like backdrop: plain, a vertical gradient, or a wall above a table."""
    w, h = size
    top = rng.integers(195, 250, 3).astype(np.float32)
    bottom = top * rng.uniform(0.55, 0.9)
    style = int(rng.integers(3))
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    if style == 0:
        t = np.zeros_like(t)
    elif style == 2:
        t = (t > rng.uniform(0.5, 0.7)).astype(np.float32) * (0.6 + 0.4 * t)
    rows = top[None, :] * (1 - t) + bottom[None, :] * t
    pixels = np.repeat(rows[:, None, :], w, axis=1) + rng.normal(0, 2.0, (h, w, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _layout(rng: np.random.Generator) -> Layout:
    """Non-overlapping placement on the canvas, 30 px apart and from the edges."""
    return Layout(margin_spots(rng, CANVAS, LAYOUT_GAP), gap=LAYOUT_GAP)


def place_photo(canvas: Image.Image, layout: Layout, name: str, width: int) -> None:
    """A product-like sample photo (cup, coins, clock...) pasted where there is room."""
    photo = sample_photo(name)
    size = (width, round(photo.height * width / photo.width))
    spot = layout.place(*size)
    if spot is not None:
        canvas.paste(photo.resize(size, Image.Resampling.LANCZOS), spot)


def place_panel(canvas: Image.Image, layout: Layout, panel: Panel) -> list[tuple[Segment, Box]]:
    """Draw ``panel`` where there is room; its segments with boxes on the canvas."""
    card, boxes = render_panel(panel)
    spot = layout.place(*card.size)
    if spot is None:
        return []
    canvas.paste(card, spot, card)
    return [(segment, box.shifted(*spot)) for segment, box in boxes]


def record(case: Case, placed: list[tuple[Segment, Box]]) -> None:
    """Segments become ground truth: personal or product items, labels become ignore regions."""
    for segment, box in placed:
        if segment.kind is None:
            case.ignore.append(box)
        else:
            case.text.append(TextItem(box, segment.kind, segment.text))


@dataclass(frozen=True, slots=True)
class FacePatch:
    image: Image.Image
    face: Box


def face_patch(source: str, index: int, width: int) -> FacePatch:
    """A face cut from a photo with a feathered ellipse, scaled so its box is ``width`` wide."""
    pixels = upright_pixels(source)
    box = labelled_photos()[source].faces[index]
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = box.scaled_about_center(CROP_SCALE).clipped(w, h).to_int()
    alpha = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    keep = box.scaled_about_center(KEEP_SCALE).shifted(-x0, -y0)
    centre = (round(keep.center[0]), round(keep.center[1]))
    cv2.ellipse(
        alpha, centre, (round(keep.width / 2), round(keep.height / 2)), 0, 0, 360, (255,), -1
    )
    feathered = cv2.GaussianBlur(alpha, (0, 0), max(1.0, box.width * 0.05))
    rgba = np.dstack([pixels[y0:y1, x0:x1], feathered])
    scale = width / box.width
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    image = Image.fromarray(rgba, "RGBA").resize(size, Image.Resampling.LANCZOS)
    return FacePatch(image, box.shifted(-x0, -y0).times(scale))


def place_face(canvas: Image.Image, layout: Layout, patch: FacePatch) -> Box | None:
    spot = layout.place(*patch.image.size)
    if spot is None:
        return None
    canvas.paste(patch.image, spot, patch.image)
    return patch.face.shifted(*spot)


# --- invented personal data ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Invented personal data (Faker, seeded): the strings the redactor must hide."""

    name: str
    street: str
    city: str
    phone: str
    email: str
    iban: str
    card: str
    tracking: str
    plate: str


def invent_person(fake: Faker, locale: str) -> Person:
    city = (
        f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"
        if locale == "en_US"
        else f"{fake.postcode()} {fake.city()}"
    )
    return Person(
        name=f"{fake.first_name()} {fake.last_name()}",
        street=fake.street_address().replace("\n", ", "),
        city=city,
        phone=valid_phone(fake, *PHONE_PATTERNS[locale]),
        email=fake.free_email(),
        iban=grouped(fake.iban()),
        card=grouped(fake.credit_card_number(card_type="visa16")),
        tracking=ups_number(fake, "######??"),
        plate=fake.license_plate().upper(),
    )


# --- surfaces --------------------------------------------------------------------------------


def label_lines(p: Person) -> list[tuple[Segment, ...]]:
    return [
        (Segment("SHIP TO:"),),
        (pii(p.name, "pii.name"),),
        (pii(p.street, "pii.address"),),
        (pii(p.city, "pii.address"),),
        (Segment("Tel: "), pii(p.phone, "pii.phone")),
        (Segment("TRACKING #: "), pii(p.tracking, "pii.tracking")),
        (pii(p.email, "pii.email"),),
    ]


def receipt_lines(p: Person, product: tuple[str, str, str, str]) -> list[tuple[Segment, ...]]:
    brand, name, size, _ = product
    return [
        (_product(f"{brand} MARKET"),),
        (_product(f"{name} {size}"),),
        (_product("Paper bag 0.20"),),
        (Segment("CARD "), pii(p.card, "pii.card")),
        (Segment("Customer: "), pii(p.name, "pii.name")),
        (pii(p.email, "pii.email"),),
        (Segment("Thank you!"),),
    ]


def screen_lines(p: Person, product: tuple[str, str, str, str]) -> list[tuple[Segment, ...]]:
    return [
        (Segment("Order confirmed"),),
        (_product(f"{product[0]} {product[1]}"),),
        (Segment("Deliver to: "), pii(p.name, "pii.name")),
        (pii(p.street, "pii.address"),),
        (pii(p.city, "pii.address"),),
        (Segment("Phone: "), pii(p.phone, "pii.phone")),
        (Segment("Refund IBAN: "), pii(p.iban, "pii.iban")),
    ]


def card_lines(p: Person) -> list[tuple[Segment, ...]]:
    return [
        (pii(p.name, "pii.name"),),
        (Segment("Sales Manager"),),
        (pii(p.email, "pii.email"),),
        (Segment("Mobile "), pii(p.phone, "pii.phone")),
        (pii(p.street, "pii.address"),),
    ]


def sticker_lines(p: Person) -> list[tuple[Segment, ...]]:
    return [
        (pii(p.name, "pii.name"),),
        (pii(p.street, "pii.address"),),
        (pii(p.city, "pii.address"),),
    ]


def packaging_panel(
    product: tuple[str, str, str, str], size: int, angle: float, paper: RGB
) -> Panel:
    """Packaging front: brand, product name, detail line and size, all product text."""
    brand, name, amount, detail = product
    size = min(max(size, 18), 30)
    return _card(
        lines=((_product(brand),), (_product(name),), (_product(detail),), (_product(amount),)),
        font=BOLD_FONT,
        size=size,
        sizes=(round(size * 2.4), round(size * 1.5), size, round(size * 1.2)),
        paper=paper,
        ink=(245, 238, 220),
        angle=angle,
    )


def surface_panels(
    surface: str, p: Person, product: tuple[str, str, str, str], font: str, size: int, angle: float
) -> list[Panel]:
    """The panels of one text surface (the packaging that goes with it is added by the caller)."""
    mono = MONO_FONTS[size % len(MONO_FONTS)]
    if surface == "label":
        return [_card(tuple(label_lines(p)), font, size, angle=angle)]
    if surface == "receipt":
        return [
            _card(tuple(receipt_lines(p, product)), mono, size, paper=(250, 250, 244), angle=angle)
        ]
    if surface == "screen":
        return [
            _card(
                tuple(screen_lines(p, product)),
                font,
                size,
                paper=(28, 30, 38),
                ink=(232, 234, 240),
                angle=angle,
            )
        ]
    if surface == "card":
        lines = tuple(card_lines(p))
        return [_card(lines, font, size, sizes=(round(size * 1.6),) + (size,) * 4, angle=angle)]
    if surface == "plate":
        plate = _card(
            ((pii(p.plate, "pii.plate"),),),
            BOLD_FONT,
            size * 3,
            paper=(250, 204, 20),
            ink=(10, 10, 10),
            angle=angle / 2,
        )
        return [plate, _card(tuple(sticker_lines(p)), font, size, angle=-angle)]
    return [_card(tuple(sticker_lines(p)), font, size, angle=angle)]


# --- cases -----------------------------------------------------------------------------------


def real_case(name: str) -> tuple[Case, bytes | None]:
    """A labelled photo: shared photos are read in place, the astronaut is written as PNG."""
    truth = labelled_photos()[name]
    pixels = upright_pixels(name)
    case = Case(
        id=f"real-{Path(name.replace(':', '-')).stem}",
        kind=REAL,
        path="astronaut.png" if name == ASTRONAUT else SHARED_PREFIX + name,
        upright_size=(pixels.shape[1], pixels.shape[0]),
        faces=list(truth.faces),
        ignore=list(truth.ignore),
        text=list(truth.product),
        attributes={"source": name},
    )
    if name != ASTRONAUT:
        return case, None
    return case, _png(Image.fromarray(pixels))


def composite_case(index: int, seed: int) -> tuple[Case, bytes]:
    """Faces at several scales on a product scene with packaging, as a JPEG."""
    rng = np.random.default_rng([seed, 1, index])
    canvas = background(rng, CANVAS)
    layout = _layout(rng)
    case = Case(
        id=f"composite-{index:02d}",
        kind=COMPOSITE,
        path=f"composite-{index:02d}.jpg",
        upright_size=CANVAS,
    )
    widths = [FACE_WIDTHS[(3 * index + k) % len(FACE_WIDTHS)] for k in range(1 + index % 3)]
    for k, width in enumerate(sorted(widths, reverse=True)):
        source = COMPOSITE_SOURCES[(2 * index + k) % len(COMPOSITE_SOURCES)]
        face = place_face(canvas, layout, face_patch(*source, width))
        if face is not None:
            case.faces.append(face)
            case.attributes.setdefault("face_widths", []).append(width)
    product = PRODUCTS[index % len(PRODUCTS)]
    paper = PAPER_COLOURS[index % len(PAPER_COLOURS)]
    record(
        case,
        place_panel(
            canvas,
            layout,
            packaging_panel(product, 20 + 4 * (index % 4), float(rng.uniform(-3, 3)), paper),
        ),
    )
    for name in rng.choice(PRODUCT_PHOTOS, size=2, replace=False):
        place_photo(canvas, layout, str(name), int(rng.integers(280, 520)))
    quality = JPEG_QUALITIES[index % len(JPEG_QUALITIES)]
    case.attributes["jpeg_quality"] = quality
    return case, _jpeg(canvas, quality)


def text_case(index: int, seed: int) -> tuple[Case, bytes]:
    """Personal text on one surface next to product packaging, blurred and compressed."""
    rng = np.random.default_rng([seed, 2, index])
    locale = LOCALES[index % len(LOCALES)]
    person = invent_person(faker(locale, seed * 1000 + index), locale)
    surface = SURFACES[index % len(SURFACES)]
    font = FONTS[index % len(FONTS)]
    size = TEXT_SIZES[index % len(TEXT_SIZES)]
    angle = float(rng.uniform(-4, 4))
    product = PRODUCTS[index % len(PRODUCTS)]
    lossless = index % 4 == 0
    ext = "png" if lossless else "jpg"
    case = Case(
        id=f"text-{index:02d}", kind=TEXT_SCENE, path=f"text-{index:02d}.{ext}", upright_size=CANVAS
    )
    canvas = background(rng, CANVAS)
    layout = _layout(rng)
    for panel in surface_panels(surface, person, product, font, size, angle):
        record(case, place_panel(canvas, layout, panel))
    paper = PAPER_COLOURS[index % len(PAPER_COLOURS)]
    record(case, place_panel(canvas, layout, packaging_panel(product, size, -angle / 2, paper)))
    place_photo(
        canvas, layout, PRODUCT_PHOTOS[index % len(PRODUCT_PHOTOS)], int(rng.integers(260, 420))
    )
    blur = BLURS[index % len(BLURS)]
    if blur:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    case.attributes.update(
        surface=surface, locale=locale, font=font, size=size, angle=round(angle, 2), blur=blur
    )
    if lossless:
        data = _png_with_metadata(canvas, person, case)
    else:
        case.attributes["jpeg_quality"] = JPEG_QUALITIES[(index // 2) % len(JPEG_QUALITIES)]
        data = _jpeg(canvas, case.attributes["jpeg_quality"])
    return case, data


def document_case(index: int, seed: int) -> tuple[Case, bytes]:
    """A generated passport page or ID card (front and back) on a table next to a product.

    Fields and MRZ lines are personal text, the portrait's face is a face, labels and
    titles must stay readable, and everything inside the document may be redacted.
    """
    from testkit.documents import FIELD, MRZ_LINE, document_scene, to_jpeg

    fmt, language = DOCUMENT_LAYOUTS[index % len(DOCUMENT_LAYOUTS)]
    scene = document_scene(fmt, language, seed * 100 + index, canvas=CANVAS)
    kinds = {FIELD: "pii.document_field", MRZ_LINE: "pii.mrz", LABEL: LABEL, PRODUCT: PRODUCT}
    case = Case(
        id=f"document-{index:02d}",
        kind=DOCUMENT,
        path=f"document-{index:02d}.jpg",
        upright_size=CANVAS,
        faces=[scene.face] if scene.face is not None else [],
        ignore=list(scene.documents),
        text=[TextItem(i.box, kinds[i.kind], i.text) for i in scene.items if i.kind in kinds],
    )
    quality = JPEG_QUALITIES[index % len(JPEG_QUALITIES)]
    case.attributes.update(format=fmt, language=language, jpeg_quality=quality)
    return case, to_jpeg(scene.image, quality)


def camera_case(index: int, orientation: int, seed: int) -> tuple[Case, bytes]:
    """A product shot with a red marker at the upright top left, stored under ``orientation``.

    Every other shot has a face too, so detection must run on the upright pixels.
    """
    rng = np.random.default_rng([seed, 3, index])
    fake = faker("en_US", seed * 1000 + 500 + index)
    canvas = background(rng, CANVAS)
    layout = _layout(rng)
    layout.reserve(MARKER.padded(40))
    ImageDraw.Draw(canvas).rectangle(MARKER.as_list(), fill=MARKER_COLOUR)
    case = Case(
        id=f"camera-{index:02d}-o{orientation}",
        kind=CAMERA,
        path=f"camera-{index:02d}-o{orientation}.jpg",
        upright_size=CANVAS,
        orientation=orientation,
        marker=MARKER,
    )
    if index % 2:
        source = COMPOSITE_SOURCES[index % len(COMPOSITE_SOURCES)]
        face = place_face(canvas, layout, face_patch(*source, int(rng.integers(70, 180))))
        if face is not None:
            case.faces.append(face)
    product = PRODUCTS[index % len(PRODUCTS)]
    record(
        case,
        place_panel(canvas, layout, packaging_panel(product, 24, 0.0, PAPER_COLOURS[index % 4])),
    )
    place_photo(canvas, layout, PRODUCT_PHOTOS[index % len(PRODUCT_PHOTOS)], 420)
    stored = Image.fromarray(to_stored(np.asarray(canvas), orientation))
    return case, camera_jpeg(stored, orientation, fake, case)


# --- orientation -----------------------------------------------------------------------------


def to_stored(upright: Pixels, orientation: int) -> Pixels:
    """The pixels a camera stores so that a viewer applying ``orientation`` shows ``upright``."""
    transforms = {
        1: lambda a: a,
        2: np.fliplr,
        3: lambda a: np.rot90(a, 2),
        4: np.flipud,
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, 1),
        7: lambda a: np.rot90(a.transpose(1, 0, 2), 2),
        8: lambda a: np.rot90(a, -1),
    }
    return np.ascontiguousarray(transforms[orientation](upright))


# --- metadata --------------------------------------------------------------------------------

_ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 2, 3, 4, 5, 7
_Entry = tuple[int, int, int, bytes]


def _ascii(tag: int, text: str) -> _Entry:
    data = text.encode() + b"\0"
    return (tag, _ASCII, len(data), data)


def _short(tag: int, value: int) -> _Entry:
    return (tag, _SHORT, 1, struct.pack("<H", value))


def _long(tag: int, value: int) -> _Entry:
    return (tag, _LONG, 1, struct.pack("<I", value))


def _rationals(tag: int, values: Sequence[float]) -> _Entry:
    data = b"".join(struct.pack("<II", round(v * 10000), 10000) for v in values)
    return (tag, _RATIONAL, len(values), data)


def _ifd_size(entries: Sequence[_Entry]) -> int:
    return 6 + 12 * len(entries) + sum(len(p) + len(p) % 2 for *_, p in entries if len(p) > 4)


def _ifd(entries: Sequence[_Entry], offset: int, next_ifd: int) -> bytes:
    """One little-endian TIFF IFD at ``offset``, values longer than 4 bytes after it."""
    head, tail = struct.pack("<H", len(entries)), b""
    data_at = offset + 6 + 12 * len(entries)
    for tag, kind, count, payload in sorted(entries):
        if len(payload) <= 4:
            value = payload.ljust(4, b"\0")
        else:
            value = struct.pack("<I", data_at + len(tail))
            tail += payload + b"\0" * (len(payload) % 2)
        head += struct.pack("<HHI", tag, kind, count) + value
    return head + struct.pack("<I", next_ifd) + tail


def exif_block(
    ifd0: list[_Entry], exif: list[_Entry], gps: list[_Entry], thumbnail: bytes
) -> bytes:
    """An APP1 EXIF payload: IFD0, Exif IFD, GPS IFD and IFD1 with a JPEG thumbnail.

    Written by hand because Pillow does not write IFD1 thumbnails, which are exactly
    what a careless redactor leaks (the thumbnail still shows the unredacted picture).
    """
    ifd1 = [_short(0x0103, 6), _long(0x0201, 0), _long(0x0202, len(thumbnail))]
    ifd0 = [*ifd0, _long(0x8769, 0), _long(0x8825, 0)]
    sizes = [_ifd_size(x) for x in (ifd0, exif, gps, ifd1)]
    at = list(itertools.accumulate([8, *sizes]))
    ifd0 = [e for e in ifd0 if e[0] not in (0x8769, 0x8825)] + [
        _long(0x8769, at[1]),
        _long(0x8825, at[2]),
    ]
    ifd1 = [*ifd1[:1], _long(0x0201, at[4]), ifd1[2]]
    body = (
        b"II*\0"
        + struct.pack("<I", 8)
        + _ifd(ifd0, at[0], at[3])
        + _ifd(exif, at[1], 0)
        + _ifd(gps, at[2], 0)
        + _ifd(ifd1, at[3], 0)
        + thumbnail
    )
    return b"Exif\0\0" + body


def _iptc_segment(byline: str, caption: str) -> bytes:
    """An APP13 Photoshop segment with an IPTC-IIM By-line and Caption."""
    records = b"".join(
        b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value
        for number, value in ((80, byline.encode()), (120, caption.encode()))
    )
    block = (
        b"8BIM\x04\x04\0\0" + struct.pack(">I", len(records)) + records + b"\0" * (len(records) % 2)
    )
    payload = b"Photoshop 3.0\0" + block
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _xmp(creator: str, lat: float, lon: float) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        f"<exif:GPSLatitude>{lat:.5f}</exif:GPSLatitude><exif:GPSLongitude>{lon:.5f}</exif:GPSLongitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def camera_jpeg(stored: Image.Image, orientation: int, fake: Faker, case: Case) -> bytes:
    """``stored`` as a camera would write it: EXIF, GPS, serials, thumbnail, XMP, IPTC, comment."""
    artist, byline = fake.name(), fake.name()
    serial, lens = fake.numerify("SN########"), fake.numerify("LS######")
    lat, lon = float(fake.latitude()), float(fake.longitude())
    ifd0 = [
        _ascii(0x010F, "ExampleCam"),
        _ascii(0x0110, "EC-7 Mark II"),
        _short(0x0112, orientation),
        _ascii(0x013B, artist),
    ]
    exif = [
        _ascii(0x9003, "2026:11:20 10:11:12"),
        _ascii(0xA431, serial),
        _ascii(0xA435, lens),
        (0x927C, _UNDEFINED, 18, b"EXAMPLECAM\0" + serial.encode()[:7]),
    ]
    gps = [
        _ascii(1, "N" if lat >= 0 else "S"),
        _rationals(2, _dms(lat)),
        _ascii(3, "E" if lon >= 0 else "W"),
        _rationals(4, _dms(lon)),
    ]
    thumbnail = _jpeg(stored.resize((stored.width // 10, stored.height // 10)), 70)
    comment = f"shot for {fake.name()}"
    buffer = io.BytesIO()
    stored.save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif_block(ifd0, exif, gps, thumbnail),
        xmp=_xmp(artist, lat, lon),
        comment=comment.encode(),
    )
    data = buffer.getvalue()
    case.metadata_planted = [
        "exif",
        "gps",
        "makernote",
        "exif_thumbnail",
        "xmp",
        "iptc",
        "jpeg_comment",
    ]
    case.canaries = [s.encode() for s in (artist, byline, serial, lens, comment)]
    return data[:2] + _iptc_segment(byline, f"{artist} at home") + data[2:]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60) % 60
    return float(degrees), float(minutes), round((value * 3600) % 60, 2)


def _png_with_metadata(canvas: Image.Image, person: Person, case: Case) -> bytes:
    """A PNG with text chunks, XMP and an eXIf chunk naming the (invented) person."""
    info = PngInfo()
    info.add_text("Author", person.name)
    info.add_itxt("Comment", f"for {person.email}")
    info.add_itxt("XML:com.adobe.xmp", _xmp(person.name, 52.1, 4.3).decode())
    exif = Image.Exif()
    exif[0x013B] = person.name
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    case.metadata_planted = ["png_text", "xmp", "png_exif"]
    case.canaries = [person.name.encode(), person.email.encode()]
    return buffer.getvalue()


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- building --------------------------------------------------------------------------------


def build_cases(plan: Plan, seed: int) -> list[tuple[Case, bytes | None]]:
    """Every case of ``plan`` with its encoded bytes (None for shared photos read in place)."""
    built = [real_case(name) for name in plan.real]
    built += [composite_case(i, seed) for i in range(plan.composites)]
    built += [text_case(i, seed) for i in range(plan.texts)]
    built += [camera_case(i, o, seed) for i, o in enumerate(plan.orientations)]
    built += [document_case(i, seed) for i in range(plan.documents)]
    return built


def generate(out: Path = DEFAULT_OUT, *, quick: bool = False, seed: int = SEED) -> Corpus:
    """Build the corpus into ``out`` (replaced whole) and return it with its in-memory truth."""
    plan = QUICK if quick else full_plan()
    built = build_cases(plan, seed)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for case, data in built:
        if data is not None:
            (partial / case.path).write_bytes(data)
    cases = [case for case, _ in built]
    manifest = {
        "about": "Ground truth for the redactor benchmark (bench/corpus.py). Personal strings "
        "are invented by Faker and deliberately absent: the scorer regenerates them in memory.",
        "seed": seed,
        "quick": quick,
        "shared_images": str(SHARED_IMAGES),
        "cases": [case.manifest_entry() for case in cases],
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1))
    _remove_corpus(out)
    partial.rename(out)
    return Corpus(out, cases, seed, quick)


def _remove_corpus(folder: Path) -> None:
    """Delete a previous corpus folder, refusing anything that does not look like one."""
    if not folder.exists():
        return
    if not (folder / MANIFEST).is_file() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty and holds no {MANIFEST}: not deleting it")
    shutil.rmtree(folder)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the labelled benchmark corpus.")
    parser.add_argument("--quick", action="store_true", help="the small corpus of the smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="corpus folder (replaced)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    corpus = generate(args.out, quick=args.quick, seed=args.seed)

    from rich.console import Console

    Console().print(f"{len(corpus.cases)} cases in {corpus.root}")


if __name__ == "__main__":
    main()

"""Rendered test scenes with known text boxes: labels, cards and packaging on photos.

Each scene draws panels of text (TrueType fonts from Debian font packages, small print
to headlines, tilted by up to 3 degrees) onto a photo background, then JPEG-compresses
the result. Every segment of text is also drawn alone into a mask that goes through the
same tilt, so its box in the final image is known to the pixel.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from faker import Faker
from PIL import Image, ImageDraw, ImageFont

from redactor.geometry import Box
from redactor.pii.tracking import ups_valid

FONT_ROOT = Path("/usr/share/fonts")
#: Font file -> Debian package that installs it.
FONTS = {
    "DejaVuSans.ttf": "fonts-dejavu-core",
    "DejaVuSerif.ttf": "fonts-dejavu-core",
    "DejaVuSans-Bold.ttf": "fonts-dejavu-core",
    "LiberationSans-Regular.ttf": "fonts-liberation2",
    "LiberationSerif-Regular.ttf": "fonts-liberation2",
    "LiberationMono-Regular.ttf": "fonts-liberation2",
    "LiberationSans-Bold.ttf": "fonts-liberation2",
    "FreeSans.ttf": "fonts-freefont-ttf",
    "FreeSerif.ttf": "fonts-freefont-ttf",
    "FreeSansBold.ttf": "fonts-freefont-ttf",
    "NotoSans-Regular.ttf": "fonts-noto-core",
    "NotoSerif-Regular.ttf": "fonts-noto-core",
    "NotoSans-Bold.ttf": "fonts-noto-core",
}


@cache
def font_path(name: str) -> Path:
    found = sorted(FONT_ROOT.rglob(name))
    if not found:
        pytest.fail(f"font {name} missing: install the Debian package {FONTS[name]}")
    return found[0]


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


PII, PRODUCT, CONTEXT = "pii", "product", "context"


@dataclass(frozen=True)
class Segment:
    """A piece of one text line.

    ``role``: ``pii`` must be covered by findings (``kind`` says which kind is meant),
    ``product`` must get no finding, ``context`` (labels such as "Tel:") may go either way.
    """

    text: str
    role: str = CONTEXT
    kind: str | None = None


def pii(text: str, kind: str) -> Segment:
    return Segment(text, PII, kind)


def product(text: str) -> Segment:
    return Segment(text, PRODUCT)


@dataclass(frozen=True)
class Panel:
    """A block of lines on a coloured card, placed at ``at`` and tilted by ``angle`` degrees."""

    lines: Sequence[Sequence[Segment]]
    at: tuple[int, int]
    font: str
    size: int
    angle: float = 0.0
    paper: tuple[int, int, int] = (248, 246, 240)
    ink: tuple[int, int, int] = (20, 20, 25)
    #: Per-line font sizes (headlines); default ``size`` for every line.
    sizes: Sequence[int] | None = None


@dataclass
class Item:
    text: str
    role: str
    kind: str | None
    box: Box


@dataclass
class Scene:
    image: np.ndarray
    items: list[Item] = field(default_factory=list)

    @property
    def personal(self) -> list[Item]:
        return [i for i in self.items if i.role == PII]

    @property
    def product(self) -> list[Item]:
        return [i for i in self.items if i.role == PRODUCT]


def background(name: str, size: tuple[int, int]) -> Image.Image:
    """A scikit-image sample photo scaled to ``size`` (width, height)."""
    from skimage import data

    pixels = getattr(data, name)()
    return Image.fromarray(pixels).convert("RGB").resize(size, Image.Resampling.BICUBIC)


def _ink_box(mask: Image.Image) -> Box | None:
    pixels = np.asarray(mask) > 96
    ys, xs = np.nonzero(pixels)
    if len(xs) == 0:
        return None
    return Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def _draw_panel(panel: Panel) -> tuple[Image.Image, list[tuple[Segment, Image.Image]]]:
    sizes = list(panel.sizes or [panel.size] * len(panel.lines))
    fonts = [font(panel.font, s) for s in sizes]
    pad = max(sizes) // 2 + 8
    widths = [
        sum(f.getlength(seg.text) for seg in line)
        for f, line in zip(fonts, panel.lines, strict=True)
    ]
    heights = [round(s * 1.45) for s in sizes]
    card = Image.new(
        "RGBA", (int(max(widths)) + 2 * pad, sum(heights) + 2 * pad), (*panel.paper, 255)
    )
    draw = ImageDraw.Draw(card)
    masks = []
    y = pad
    for f, line, height in zip(fonts, panel.lines, heights, strict=True):
        x = float(pad)
        for seg in line:
            draw.text((x, y), seg.text, font=f, fill=(*panel.ink, 255))
            mask = Image.new("L", card.size, 0)
            ImageDraw.Draw(mask).text((x, y), seg.text, font=f, fill=255)
            masks.append((seg, mask))
            x += f.getlength(seg.text)
        y += height
    return card, masks


def render(
    panels: Sequence[Panel],
    photo: str = "coffee",
    size: tuple[int, int] = (1400, 1000),
    quality: int = 82,
) -> Scene:
    """Draw ``panels`` on a photo and JPEG-compress it; items carry their boxes."""
    canvas = background(photo, size)
    items: list[Item] = []
    for panel in panels:
        card, masks = _draw_panel(panel)
        tilted = card.rotate(panel.angle, Image.Resampling.BICUBIC, expand=True)
        canvas.paste(tilted, panel.at, tilted)
        for seg, mask in masks:
            box = _ink_box(mask.rotate(panel.angle, Image.Resampling.BILINEAR, expand=True))
            if box is not None and seg.text.strip():
                items.append(Item(seg.text, seg.role, seg.kind, box.shifted(*panel.at)))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return Scene(image, items)


# --- personal data, seeded --------------------------------------------------------------


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
    raise AssertionError(f"no valid {region} number for {pattern}")


def ups_number(fake: Faker) -> str:
    """A UPS 1Z tracking number with a correct check digit, printed in groups."""
    body = "1Z" + fake.bothify("###???##").upper() + fake.numerify("#######")
    number = next(body + d for d in "0123456789" if ups_valid(body + d))
    return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:10]} {number[10:14]} {number[14:]}"


def s10_number(fake: Faker, country: str = "GB") -> str:
    """A UPU S10 item number (Royal Mail style) with a correct check digit."""
    from redactor.pii.tracking import s10_valid

    body = fake.lexify("??").upper() + fake.numerify("########")
    return next(body + d + country for d in "0123456789" if s10_valid(body + d + country))


def spaced(number: str, group: int = 4) -> str:
    return " ".join(number[i : i + group] for i in range(0, len(number), group))


# --- scenes ------------------------------------------------------------------------------

PRODUCT_COLOURS = {"paper": (92, 58, 34), "ink": (245, 235, 210)}


def shipping_scene(seed: int = 1) -> Scene:
    """A US shipping label next to a coffee bag's front, on a coffee photo."""
    fake = faker("en_US", seed)
    label = Panel(
        lines=[
            [Segment("SHIP TO:")],
            [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [pii(fake.street_address(), "pii.address")],
            [pii(f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}", "pii.address")],
            [Segment("Tel: "), pii(valid_phone(fake, "(###) ###-####", "US"), "pii.phone")],
            [Segment("TRACKING #: "), pii(ups_number(fake), "pii.tracking")],
            [Segment("E-mail: "), pii(fake.free_email(), "pii.email")],
        ],
        at=(50, 60),
        font="LiberationSans-Regular.ttf",
        size=26,
        angle=2.5,
    )
    bag = Panel(
        lines=[
            [product("NORDKAFFE")],
            [product("ORGANIC COFFEE")],
            [product("Ingredients: roasted arabica beans")],
            [product("500 ml")],
            [product("BEST BEFORE 12/2027")],
        ],
        at=(780, 480),
        font="DejaVuSans-Bold.ttf",
        size=22,
        sizes=[64, 40, 22, 22, 22],
        angle=-2.0,
        **PRODUCT_COLOURS,
    )
    return render([label, bag], photo="coffee")


def card_scene(seed: int = 2) -> Scene:
    """A business card and a small-print receipt on a cat photo."""
    fake = faker("en_GB", seed)
    card = Panel(
        lines=[
            [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [Segment("Sales Manager")],
            [pii(fake.company_email(), "pii.email")],
            [Segment("Mobile "), pii(valid_phone(fake, "+44 20 7### ####", "GB"), "pii.phone")],
            [pii(fake.street_address().replace("\n", ", "), "pii.address")],
            [pii(f"{fake.city()} {fake.postcode()}", "pii.address")],
        ],
        at=(60, 80),
        font="NotoSerif-Regular.ttf",
        size=24,
        sizes=[44, 24, 24, 24, 24, 24],
        angle=-1.5,
    )
    receipt = Panel(
        lines=[
            [product("FRESH MARKET")],
            [product("SPARKLING WATER 12 x 330 ml")],
            [product("€ 12,50")],
            [product("MODEL XR-2000  SKU ABC-12345")],
            [product("EXP 2026-05-01")],
            [product("EAN 4006381333931")],
            [Segment("CARD "), pii(f"**** **** **** {fake.numerify('####')}", "pii.card")],
            [Segment("Cashier: "), pii(fake.first_name(), "pii.name")],
        ],
        at=(860, 120),
        font="LiberationMono-Regular.ttf",
        size=20,
        angle=1.0,
    )
    return render([card, receipt], photo="chelsea")


def eu_scene(seed: int = 3) -> Scene:
    """German and Dutch labels, a UK number plate and a bottle label, on a rocket photo."""
    de, nl = faker("de_DE", seed), faker("nl_NL", seed)
    german = Panel(
        lines=[
            [Segment("Empfänger:")],
            [pii(f"{de.first_name()} {de.last_name()}", "pii.name")],
            [pii(de.street_address(), "pii.address")],
            [pii(f"{de.postcode()} {de.city()}", "pii.address")],
            [Segment("IBAN "), pii(spaced(de.iban()), "pii.iban")],
        ],
        at=(40, 40),
        font="FreeSans.ttf",
        size=28,
        angle=-3.0,
    )
    dutch = Panel(
        lines=[
            [pii(f"{nl.first_name()} {nl.last_name()}", "pii.name")],
            [pii(nl.street_address(), "pii.address")],
            [pii(f"{nl.postcode()} {nl.city()}", "pii.address")],
            [Segment("Tel. "), pii(valid_phone(nl, "+31 20 ### ####", "NL"), "pii.phone")],
            [pii(s10_number(nl), "pii.tracking")],
        ],
        at=(60, 560),
        font="NotoSans-Regular.ttf",
        size=24,
        angle=3.0,
    )
    plate = Panel(
        lines=[[pii(nl.bothify("??## ???").upper(), "pii.plate")]],
        at=(820, 80),
        font="DejaVuSans-Bold.ttf",
        size=60,
        paper=(250, 204, 20),
        ink=(10, 10, 10),
    )
    bottle = Panel(
        lines=[
            [product("SPRUDELHOF")],
            [product("Mineralwasser")],
            [product("12 x 330 ml")],
        ],
        at=(860, 560),
        font="LiberationSerif-Regular.ttf",
        size=30,
        sizes=[56, 30, 30],
        angle=-1.0,
        **PRODUCT_COLOURS,
    )
    return render([german, dutch, plate, bottle], photo="rocket")


def label_scene(seed: int = 4) -> Scene:
    """A small shipping label alone (for the slow engine)."""
    fake = faker("en_US", seed)
    label = Panel(
        lines=[
            [Segment("SHIP TO:")],
            [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
            [pii(fake.street_address(), "pii.address")],
            [pii(f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}", "pii.address")],
            [Segment("Tel: "), pii(valid_phone(fake, "(###) ###-####", "US"), "pii.phone")],
            [Segment("E-mail: "), pii(fake.free_email(), "pii.email")],
        ],
        at=(30, 30),
        font="LiberationSans-Regular.ttf",
        size=26,
        angle=1.5,
    )
    return render([label], photo="coffee", size=(720, 460))


SCENES = {"shipping": shipping_scene, "card": card_scene, "eu": eu_scene}

# --- real photos -----------------------------------------------------------------------------

#: Hand-labelled ink boxes of personal items in the shared test images, by kind.
REAL_PERSONAL: dict[str, list[tuple[str, Box]]] = {
    "doc_form_application.png": [
        ("pii.email", Box(685, 709, 868, 728)),
        ("pii.phone", Box(144, 714, 214, 726)),
        ("pii.phone", Box(421, 717, 476, 727)),
        ("pii.national_id", Box(845, 469, 938, 481)),
        ("pii.national_id", Box(833, 493, 947, 508)),
        ("pii.address", Box(66, 638, 175, 651)),
    ],
    "receipt_store_card.jpg": [("pii.card", Box(276, 757, 740, 780))],
    "plate_us_truck_street.jpg": [("pii.plate", Box(252, 376, 297, 391))],
}
#: Product text in the shared test images that must stay readable.
REAL_PRODUCT: dict[str, list[tuple[str, Box]]] = {
    "receipt_store_card.jpg": [
        ("LG FLATSCREEN 65", Box(13, 357, 316, 380)),
        ("SONY VIAO I7 6938", Box(12, 397, 340, 420)),
        ("6FT HDMI CABLE BB", Box(12, 437, 341, 460)),
        ("APPLE TV V4", Box(11, 477, 225, 500)),
    ],
}


def shared_rgb(path: Path) -> np.ndarray:
    """A shared image's upright RGB pixels, transparency flattened onto white."""
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))

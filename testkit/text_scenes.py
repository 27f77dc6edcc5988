"""Rendered test scenes with known text boxes: labels, cards and packaging on photos.

Each scene draws panels of text (TrueType fonts from Debian font packages, small print
to headlines, tilted by up to 3 degrees) onto a photo background, then JPEG-compresses
the result; every segment's box in the final image is known to the pixel
(:mod:`testkit.panels`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from redactor.geometry import Box
from testkit.cards import de_remittance, uk_business_card, us_shipping_label
from testkit.panels import PRODUCT, Panel, Segment, pii, product, render_panel
from testkit.people import faker, s10_number, valid_phone
from testkit.photos import photo_background


@dataclass(frozen=True)
class Placed:
    """A panel and where its card's top-left corner goes."""

    panel: Panel
    at: tuple[int, int]


@dataclass
class Item:
    text: str
    kind: str | None
    box: Box

    @property
    def personal(self) -> bool:
        return Segment(self.text, self.kind).personal


@dataclass
class Scene:
    image: np.ndarray
    items: list[Item] = field(default_factory=list)

    @property
    def personal(self) -> list[Item]:
        return [i for i in self.items if i.personal]

    @property
    def product(self) -> list[Item]:
        return [i for i in self.items if i.kind == PRODUCT]


def render(
    panels: Sequence[Placed],
    photo: str = "coffee",
    size: tuple[int, int] = (1400, 1000),
    quality: int = 82,
) -> Scene:
    """Draw ``panels`` on a photo and JPEG-compress it; items carry their boxes."""
    canvas = photo_background(photo, size)
    items: list[Item] = []
    for placed in panels:
        card, boxes = render_panel(placed.panel)
        canvas.paste(card, placed.at, card)
        items += [Item(s.text, s.kind, box.shifted(*placed.at)) for s, box in boxes]
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return Scene(image, items)


# --- scenes ------------------------------------------------------------------------------

PRODUCT_COLOURS = {"paper": (92, 58, 34), "ink": (245, 235, 210)}


def shipping_scene(seed: int = 1) -> Scene:
    """A US shipping label next to a coffee bag's front, on a coffee photo."""
    fake = faker("en_US", seed)
    label = Panel(
        lines=us_shipping_label(fake),
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
        font="DejaVuSans-Bold.ttf",
        size=22,
        sizes=[64, 40, 22, 22, 22],
        angle=-2.0,
        **PRODUCT_COLOURS,
    )
    return render([Placed(label, (50, 60)), Placed(bag, (780, 480))], photo="coffee")


def card_scene(seed: int = 2) -> Scene:
    """A business card and a small-print receipt on a cat photo."""
    fake = faker("en_GB", seed)
    card = Panel(
        lines=uk_business_card(fake),
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
        font="LiberationMono-Regular.ttf",
        size=20,
        angle=1.0,
    )
    return render([Placed(card, (60, 80)), Placed(receipt, (860, 120))], photo="chelsea")


def eu_scene(seed: int = 3) -> Scene:
    """German and Dutch labels, a UK number plate and a bottle label, on a rocket photo."""
    de, nl = faker("de_DE", seed), faker("nl_NL", seed)
    german = Panel(
        lines=de_remittance(de),
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
        font="NotoSans-Regular.ttf",
        size=24,
        angle=3.0,
    )
    plate = Panel(
        lines=[[pii(nl.bothify("??## ???").upper(), "pii.plate")]],
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
        font="LiberationSerif-Regular.ttf",
        size=30,
        sizes=[56, 30, 30],
        angle=-1.0,
        **PRODUCT_COLOURS,
    )
    return render(
        [
            Placed(german, (40, 40)),
            Placed(dutch, (60, 560)),
            Placed(plate, (820, 80)),
            Placed(bottle, (860, 560)),
        ],
        photo="rocket",
    )


def label_scene(seed: int = 4) -> Scene:
    """A small shipping label alone (for the slow engine)."""
    fake = faker("en_US", seed)
    label = Panel(
        lines=us_shipping_label(fake, tracking=False),
        font="LiberationSans-Regular.ttf",
        size=26,
        angle=1.5,
    )
    return render([Placed(label, (30, 30))], photo="coffee", size=(720, 460))


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

"""Invented people and the text surfaces of the corpus's scenes: shipping labels, receipts,
screens, business cards, plates and stickers, each a :class:`testkit.panels.Panel` whose
personal segments carry their kind, and product packaging whose text must stay."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from faker import Faker

from testkit.panels import Panel, Segment, pii
from testkit.panels import product as _product
from testkit.people import grouped, ups_number, valid_phone

RGB = tuple[int, int, int]

MONO_FONTS = ("LiberationMono-Regular.ttf", "DejaVuSansMono.ttf", "FreeMono.ttf")
BOLD_FONT = "DejaVuSans-Bold.ttf"
#: Phone patterns ("#" is a digit) that libphonenumber accepts, per locale.
PHONE_PATTERNS = {
    "en_US": ("(###) ###-####", "US"),
    "en_GB": ("+44 20 7### ####", "GB"),
    "de_DE": ("+49 30 #######", "DE"),
    "nl_NL": ("+31 20 ### ####", "NL"),
    "fr_FR": ("+33 1 ## ## ## ##", "FR"),
}
#: Cards of the corpus have a little more paper around their text than the default.
card_panel = partial(Panel, margin=10)


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
    return card_panel(
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
        return [card_panel(tuple(label_lines(p)), font, size, angle=angle)]
    if surface == "receipt":
        return [
            card_panel(
                tuple(receipt_lines(p, product)), mono, size, paper=(250, 250, 244), angle=angle
            )
        ]
    if surface == "screen":
        return [
            card_panel(
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
        return [
            card_panel(lines, font, size, sizes=(round(size * 1.6),) + (size,) * 4, angle=angle)
        ]
    if surface == "plate":
        plate = card_panel(
            ((pii(p.plate, "pii.plate"),),),
            BOLD_FONT,
            size * 3,
            paper=(250, 204, 20),
            ink=(10, 10, 10),
            angle=angle / 2,
        )
        return [plate, card_panel(tuple(sticker_lines(p)), font, size, angle=-angle)]
    return [card_panel(tuple(sticker_lines(p)), font, size, angle=angle)]

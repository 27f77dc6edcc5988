"""Generated identity documents: TD1 cards, TD3 passport pages and MRV-A visa stickers
with invented holders.

Each document has the layout ICAO 9303 prescribes (portrait on the left, labelled fields,
a machine-readable zone at the bottom with valid check digits), labels in English and
one of ten other languages (a visa's in three, stacked in small type beside large
values), a faint security pattern, a signature, and optionally a
ghost portrait. :func:`document_scene` photographs it on a table next to a product,
tilted a few degrees, and JPEG-compresses the result. Every item comes with its exact
box (each segment is also drawn alone into a mask that goes through the same rotation
and placement), so the scorer knows what must be gone and what must stay.

Holders and their printed text come from :mod:`testkit.holders`. Nothing here is
shipped: tests and the benchmark corpus use it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import numpy as np
import numpy.typing as npt
from faker import Faker
from PIL import Image, ImageDraw, ImageFont

from redactor.geometry import Box, union_box
from testkit.fonts import font
from testkit.holders import (
    ENGLISH,
    HEADER,
    LANGUAGES,
    STATE,
    TITLES,
    invent_holder,
    mrz_lines,
    printed,
)
from testkit.panels import ink_box
from testkit.photos import sample_photo

Pixels = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]

LABEL_FONT = "DejaVuSans.ttf"
VALUE_FONT = "DejaVuSans-Bold.ttf"
MRZ_FONT = "DejaVuSansMono.ttf"
#: Page size in pixels before the photo is taken (ID-1 card and TD3 page proportions).
PAGE = {"TD1": (856, 540), "TD3": (1000, 704), "MRV": (1000, 667)}

#: Kinds of item, as the benchmark scores them.
FIELD, MRZ_LINE, LABEL, PORTRAIT, SIGNATURE = "field", "mrz", "label", "portrait", "signature"


@dataclass(frozen=True)
class Item:
    """One rendered thing and its box in the final picture. ``text`` is the printed text
    (personal for fields and MRZ lines; never written anywhere by the benchmark)."""

    box: Box
    kind: str
    text: str = ""
    field: str = ""


@dataclass
class DocumentScene:
    image: Image.Image
    document: Box
    fmt: str
    language: str
    items: list[Item] = field(default_factory=list)
    #: The face inside the portrait (the face detector must find it).
    face: Box | None = None
    #: Each side of the document as placed (a card's front and back are two).
    documents: list[Box] = field(default_factory=list)


@cache
def _astronaut() -> tuple[Image.Image, Box]:
    """scikit-image's public-domain astronaut portrait and its face box."""
    return sample_photo("astronaut"), Box(165, 57, 286, 178)


class _Page:
    """Draws onto a page and records every item's ink box in page coordinates."""

    def __init__(self, size: tuple[int, int], rng: np.random.Generator) -> None:
        self.image = _security_background(size, rng)
        self.draw = ImageDraw.Draw(self.image)
        self.masks: list[tuple[Image.Image, str, str, str]] = []

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        face: ImageFont.FreeTypeFont,
        kind: str,
        ink: RGB,
        name: str = "",
    ) -> None:
        self.draw.text(xy, text, font=face, fill=ink)
        mask = Image.new("L", self.image.size, 0)
        ImageDraw.Draw(mask).text(xy, text, font=face, fill=255)
        self.masks.append((mask, kind, text, name))

    def paste(
        self, picture: Image.Image, xy: tuple[int, int], kind: str, alpha: float = 1.0
    ) -> None:
        if alpha < 1.0:
            under = self.image.crop((xy[0], xy[1], xy[0] + picture.width, xy[1] + picture.height))
            picture = Image.blend(under, picture, alpha)
        self.image.paste(picture, xy)
        mask = Image.new("L", self.image.size, 0)
        mask.paste(255, (xy[0], xy[1], xy[0] + picture.width, xy[1] + picture.height))
        self.masks.append((mask, kind, "", ""))

    def signature(self, box: Box, rng: np.random.Generator) -> None:
        points = []
        for k in range(60):
            t = k / 59
            x = box.x0 + t * box.width
            y = box.center[1] + 0.35 * box.height * math.sin(t * rng.uniform(9, 16)) * rng.uniform(
                0.6, 1
            )
            points.append((x, y))
        self.draw.line(points, fill=(25, 35, 110), width=3)
        mask = Image.new("L", self.image.size, 0)
        ImageDraw.Draw(mask).line(points, fill=255, width=3)
        self.masks.append((mask, SIGNATURE, "", "signature"))


def _paste_portrait(page: _Page, at: tuple[int, int], share: float) -> tuple[Image.Image, Box]:
    """The astronaut's head and shoulders, ``share`` of the page's width wide, pasted at
    ``at``; the picture and the face box on the page."""
    photo, face = _astronaut()
    width = round(share * page.image.width)
    crop = photo.crop(
        (
            int(face.x0 - 0.45 * face.width),
            int(face.y0 - 0.5 * face.height),
            int(face.x1 + 0.45 * face.width),
            int(face.y1 + 0.9 * face.height),
        )
    )
    portrait = crop.resize((width, round(width * 1.28)), Image.Resampling.LANCZOS)
    page.paste(portrait, at, PORTRAIT)
    scale = width / crop.width
    face_box = Box(
        at[0] + 0.45 * face.width * scale,
        at[1] + 0.5 * face.height * scale,
        at[0] + 1.45 * face.width * scale,
        at[1] + 1.5 * face.height * scale,
    )
    return portrait, face_box


def _security_background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Pale paper with fine wavy guilloche lines, as documents print under their fields."""
    w, h = size
    base = np.array(rng.integers(215, 245, 3), dtype=np.float32)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    waves = np.sin(x / rng.uniform(9, 15) + 3 * np.sin(y / rng.uniform(25, 40))) * 6
    pixels = base[None, None, :] + waves[..., None] * np.array([0.6, 0.3, 1.0])
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def render_document(fmt: str, language: str, seed: int, *, ghost: bool = True) -> DocumentScene:
    """One document page, upright, with every item's box."""
    return _render(fmt, language, seed, ghost)[0]


_Masks = list[tuple[Image.Image, str, str, str]]


def _render(fmt: str, language: str, seed: int, ghost: bool) -> tuple[DocumentScene, _Masks]:
    if fmt == "MRV":
        return _render_visa(language, seed)
    rng = np.random.default_rng([seed, 7])
    locale, foreign = LANGUAGES[language]
    fake = Faker(locale)
    fake.seed_instance(seed)
    holder = invent_holder(fake, rng)
    width, height = PAGE[fmt]
    page = _Page((width, height), rng)
    ink, label_ink = (20, 20, 40), (70, 60, 110)
    unit = height / 100
    page.text((0.04 * width, 3 * unit), HEADER, font(VALUE_FONT, round(5 * unit)), LABEL, label_ink)
    _title(page, fmt, seed, (0.62 * width, 3 * unit), unit, label_ink)
    portrait, face_box = _paste_portrait(page, (round(0.04 * width), round(14 * unit)), 0.27)
    portrait_w, portrait_h = portrait.size
    #: (field, value, column, row) of the data block right of the portrait.
    grid = [
        ("surname", holder.surname, 0, 0),
        ("given", holder.given, 0, 1),
        ("birth", printed(holder.birth), 0, 2),
        ("nationality", STATE, 1, 2),
        ("place", holder.place, 0, 3),
        ("sex", holder.sex, 1, 3),
        ("number", holder.number, 0, 4),
        ("expiry", printed(holder.expiry), 1, 4),
        ("issue", printed(holder.issue), 0, 5),
    ]
    label_size, value_size = round(2.7 * unit), round(4.2 * unit)
    x = 0.36 * width
    pitch = 1.15 * label_size + 1.6 * value_size
    for key, value, column, row in grid:
        cx, y = x + column * 0.32 * width, 14 * unit + row * pitch
        label = f"{ENGLISH[key]} / {foreign[key]}"
        page.text((cx, y), label, font(LABEL_FONT, label_size), LABEL, label_ink)
        page.text((cx, y + 1.15 * label_size), value, font(VALUE_FONT, value_size), FIELD, ink, key)
    y = 14 * unit + 6 * pitch
    sig_y = y + 0.5 * unit
    page.text(
        (x, sig_y),
        f"{ENGLISH['signature']} / {foreign['signature']}",
        font(LABEL_FONT, label_size),
        LABEL,
        label_ink,
    )
    page.signature(
        Box(x, sig_y + 1.3 * label_size, x + 0.22 * width, sig_y + 1.3 * label_size + 6 * unit), rng
    )
    if ghost:
        small = portrait.convert("L").resize((portrait_w // 3, portrait_h // 3)).convert("RGB")
        page.paste(small, (round(0.8 * width), round(sig_y)), "ghost_portrait", alpha=0.55)
    back = page if fmt == "TD3" else _Page((width, height), rng)
    if fmt == "TD1":
        back.text(
            (0.06 * width, 8 * unit),
            "Address",
            font(LABEL_FONT, label_size),
            LABEL,
            label_ink,
        )
        back.text(
            (0.06 * width, 8 * unit + 1.15 * label_size),
            fake.street_address().upper()[:30],
            font(VALUE_FONT, value_size),
            FIELD,
            ink,
            "address",
        )
    lines = mrz_lines(holder, fmt)
    mrz_size = round(0.88 * width / (len(lines[0]) * 0.61))
    mrz_face = font(MRZ_FONT, mrz_size)
    top = height - 3 * unit - len(lines) * 1.25 * mrz_size
    for k, line in enumerate(lines):
        back.text(
            (0.05 * width, top + k * 1.25 * mrz_size), line, mrz_face, MRZ_LINE, ink, f"line{k + 1}"
        )
    face_mask = Image.new("L", page.image.size, 0)
    ImageDraw.Draw(face_mask).rectangle(face_box.as_list(), fill=255)
    sides = [(page, [*page.masks, (face_mask, "face", "", "")])]
    if back is not page:
        sides.append((back, back.masks))
    return _stacked_sides(sides, fmt, language, face_box)


def _title(
    page: _Page, fmt: str, seed: int, xy: tuple[float, float], unit: float, ink: RGB
) -> None:
    """The document's title at ``xy``. An ID card's, by the seed: its short title on one
    line; its national title over two lines ("NATIONAL" over "IDENTITY CARD"); or, on
    the row under the state's name, the national title after a word that marks the
    issue ("REPLACEMENT"), which is no title and is redacted like a value. (The seed
    picks, not the generator: the draws after this stay what they were.)"""
    x, y = xy
    variant = seed % 3 if fmt == "TD1" else 0
    if variant == 1:
        face = font(VALUE_FONT, round(3.4 * unit))
        head, tail = TWO_LINE_TITLE
        page.text((x, y - unit), head, face, LABEL, ink)
        page.text((x, y - unit + 1.2 * face.size), tail, face, LABEL, ink)
        return
    face = font(VALUE_FONT, round((3.4 if variant == 2 else 5) * unit))
    if variant == 2:
        x, y = 0.3 * page.image.width, y + 5.5 * unit
        page.text((x, y), ISSUE_MARK, face, FIELD, ISSUE_INK, "issue_mark")
        x += face.getlength(f"{ISSUE_MARK} ")
        page.text((x, y), " ".join(TWO_LINE_TITLE), face, LABEL, ink)
        return
    page.text((x, y), TITLES[fmt], face, LABEL, ink)


#: An ID card's national title, printed over two lines on some cards.
TWO_LINE_TITLE = ("NATIONAL", "IDENTITY CARD")
#: A word some cards print before their title (a re-issued card; not a caption, unlike
#: "DUPLICATE" on some licences).
ISSUE_MARK = "REPLACEMENT"
ISSUE_INK = (190, 40, 40)
#: A visa's caption in each language it prints, by field: (English, German, French).
VISA_LABELS = {
    "valid_for": ("VALID FOR", "GÜLTIG FÜR", "VALABLE POUR"),
    "from": ("FROM", "VOM", "DU"),
    "until": ("UNTIL", "BIS", "AU"),
    "type": ("TYPE OF VISA", "ART DES VISUMS", "TYPE DE VISA"),
    "entries": ("NUMBER OF ENTRIES", "ANZAHL DER EINREISEN", "NOMBRE D'ENTRÉES"),
    "duration": ("DURATION OF STAY", "DAUER DES AUFENTHALTS", "DURÉE DU SÉJOUR"),
    "issued_in": ("ISSUED IN", "AUSGESTELLT IN", "DÉLIVRÉ À"),
    "on": ("ON", "AM", "LE"),
    "passport": ("NUMBER OF PASSPORT", "NUMMER DES REISEPASSES", "NUMÉRO DU PASSEPORT"),
    "name": ("SURNAME, NAME", "NAME, VORNAME", "NOM, PRÉNOM"),
}
#: Where the visa is valid, as the issuing language prints it (a value, not a state).
VISA_AREA = {"de": "SCHENGENER STAATEN", "fr": "ETATS SCHENGEN"}
#: The two label columns of a row (shares of the page's width) and the rows' fields.
VISA_COLUMNS = (0.28, 0.6)
VISA_DAYS = 90


def _render_visa(language: str, seed: int) -> tuple[DocumentScene, _Masks]:
    """An MRV-A visa sticker: state and title, the portrait on the left, each field's
    caption in English, German and French stacked in small type with its value large on
    the caption's right (as Schengen visas print them), and a two-line MRZ."""
    if language not in VISA_AREA:
        raise ValueError(f"visas are generated in {sorted(VISA_AREA)}, not {language!r}")
    rng = np.random.default_rng([seed, 7])
    fake = Faker(LANGUAGES[language][0])
    fake.seed_instance(seed)
    holder = invent_holder(fake, rng)
    width, height = PAGE["MRV"]
    page = _Page((width, height), rng)
    ink, label_ink = (20, 20, 40), (70, 60, 110)
    unit = height / 100
    title_face = font(VALUE_FONT, round(5 * unit))
    page.text((0.04 * width, 3 * unit), HEADER, title_face, LABEL, label_ink)
    page.text((0.72 * width, 3 * unit), TITLES["MRV"], title_face, LABEL, label_ink)
    _, face_box = _paste_portrait(page, (round(0.04 * width), round(14 * unit)), 0.22)
    start = holder.issue + timedelta(days=int(rng.integers(5, 60)))
    until = start + timedelta(days=VISA_DAYS * 2 - 1)
    rows: list[list[tuple[str, str]]] = [
        [("valid_for", VISA_AREA[language])],
        [("from", printed(start)), ("until", printed(until))],
        [("type", "C"), ("entries", "MULT")],
        [("duration", str(VISA_DAYS)), ("on", printed(holder.issue))],
        [("issued_in", holder.place)],
        [("passport", holder.number)],
        [("name", f"{holder.surname}, {holder.given}")],
    ]
    order = (0, 1, 2) if language == "de" else (0, 2, 1)
    label_face = font(LABEL_FONT, round(2.0 * unit))
    value_face = font(VALUE_FONT, round(4.0 * unit))
    row_pitch = 1.15 * label_face.size
    stack_height = 3 * row_pitch
    top = 14 * unit
    for fields in rows:
        for (key, value), column in zip(fields, VISA_COLUMNS, strict=False):
            x = column * width
            stack = [VISA_LABELS[key][k] for k in order]
            for k, caption in enumerate(stack):
                row = (x, top + k * row_pitch)
                page.text(row, caption, label_face, LABEL, label_ink, f"{key}.{k}")
            vx = x + max(label_face.getlength(c) for c in stack) + label_face.size
            vy = top + (stack_height - value_face.size) / 2
            right = vx + value_face.getlength(value)
            edge = VISA_COLUMNS[1] if len(fields) > 1 and column == VISA_COLUMNS[0] else 0.97
            if right > edge * width:
                raise ValueError(f"visa field {key!r} runs past its column")
            page.text((vx, vy), value, value_face, FIELD, ink, key)
        top += stack_height + 1.4 * label_face.size
    lines = mrz_lines(holder, "MRV", expiry=until)
    mrz_face = font(MRZ_FONT, round(0.88 * width / (len(lines[0]) * 0.61)))
    mrz_top = height - 3 * unit - len(lines) * 1.25 * mrz_face.size
    for k, line in enumerate(lines):
        page.text(
            (0.05 * width, mrz_top + k * 1.25 * mrz_face.size),
            line,
            mrz_face,
            MRZ_LINE,
            ink,
            f"line{k + 1}",
        )
    face_mask = Image.new("L", page.image.size, 0)
    ImageDraw.Draw(face_mask).rectangle(face_box.as_list(), fill=255)
    return _stacked_sides(
        [(page, [*page.masks, (face_mask, "face", "", "")])], "MRV", language, face_box
    )


def _stacked_sides(
    sides: list[tuple[_Page, _Masks]], fmt: str, language: str, face: Box
) -> tuple[DocumentScene, _Masks]:
    """One side, or a card's front above its back with a gap (as specimens are shown)."""
    width, height = sides[0][0].image.size
    gap = height // 12
    total = len(sides) * height + (len(sides) - 1) * gap
    image = Image.new("RGBA", (width, total), (0, 0, 0, 0))
    masks: _Masks = []
    for k, (side, side_masks) in enumerate(sides):
        top = k * (height + gap)
        image.paste(side.image.convert("RGBA"), (0, top))
        for mask, kind, text, name in side_masks:
            full = Image.new("L", (width, total), 0)
            full.paste(mask, (0, top))
            masks.append((full, kind, text, name))
        whole = Image.new("L", (width, total), 0)
        whole.paste(255, (0, top, width, top + height))
        masks.append((whole, "document", "", ""))
    scene = DocumentScene(image, Box(0, 0, width, total), fmt, language, face=face)
    scene.items = [
        Item(box, kind, text, name)
        for mask, kind, text, name in masks
        if kind not in ("face", "document") and (box := ink_box(mask)) is not None
    ]
    return scene, masks


def document_scene(
    fmt: str,
    language: str,
    seed: int,
    *,
    canvas: tuple[int, int] = (1600, 1200),
    angle: float | None = None,
    product: tuple[str, ...] = ("NORDKAFFE", "Organic Coffee", "250 g"),
    share: float | None = None,
) -> DocumentScene:
    """The document photographed on a table next to a product, tilted a few degrees;
    ``share``: its width as a share of the canvas's (by default about half; a small
    share is a card far from the camera, its labels a few pixels tall)."""
    rng = np.random.default_rng([seed, 8])
    document, masks = _render(fmt, language, seed, bool(seed % 2))
    tilt = float(rng.uniform(-4, 4)) if angle is None else angle
    table = _table(canvas, rng)
    width_share = float(rng.uniform(0.48, 0.58)) if share is None else share
    scale = min(
        canvas[0] * width_share / document.image.width,
        canvas[1] * 0.85 / document.image.height,
    )
    size = (round(document.image.width * scale), round(document.image.height * scale))
    at = (round(canvas[0] * 0.04), round((canvas[1] - size[1]) * rng.uniform(0.2, 0.8)))

    def placed(picture: Image.Image) -> Image.Image:
        resized = picture.resize(size, Image.Resampling.BILINEAR)
        return resized.rotate(tilt, Image.Resampling.BILINEAR, expand=True)

    card = placed(document.image)
    table.paste(card, at, card)
    scene = DocumentScene(table, Box(0, 0, 0, 0), fmt, language)
    for mask, kind, text, name in masks:
        box = ink_box(placed(mask))
        if box is None:
            continue
        box = box.shifted(*at)
        if kind == "face":
            scene.face = box
        elif kind == "document":
            scene.documents.append(box)
        else:
            scene.items.append(Item(box, kind, text, name))
    scene.document = union_box(scene.documents)
    scene.items += _product_panel(table, product, canvas, rng)
    return scene


def _table(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A wooden table top: brown with soft grain."""
    w, h = size
    base = np.array([rng.uniform(120, 160), rng.uniform(80, 105), rng.uniform(45, 65)], np.float32)
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    grain = 10 * np.sin(y / 7 + 2 * np.sin(x / 90)) + rng.normal(0, 3, (h, w))
    pixels = base[None, None, :] + grain[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _product_panel(
    table: Image.Image, lines: tuple[str, ...], canvas: tuple[int, int], rng: np.random.Generator
) -> list[Item]:
    """A product box on the right of the table: its text must stay readable."""
    x0, y0 = round(canvas[0] * 0.7), round(canvas[1] * rng.uniform(0.15, 0.45))
    sizes = (64, 40, 34)
    draw = ImageDraw.Draw(table)
    draw.rectangle((x0, y0, canvas[0] - 40, y0 + 360), fill=(30, 90, 60))
    items = []
    y = y0 + 40
    for text, size in zip(lines, sizes, strict=False):
        face = font(VALUE_FONT, size)
        draw.text((x0 + 30, y), text, font=face, fill=(245, 238, 220))
        left, top, right, bottom = draw.textbbox((x0 + 30, y), text, font=face)
        items.append(Item(Box(left, top, right, bottom), "product", text))
        y += round(size * 1.8)
    return items


def to_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


FINGERPRINT, CODE = "fingerprint", "barcode"


def with_back_marks(scene: DocumentScene, seed: int) -> DocumentScene:
    """A rendered TD1 card (front above back, as :func:`render_document` gives it) with
    the marks ID cards print on their back: a fingerprint on a white field at the top
    right and a stacked 2-D code (PDF417-like rows of modules between start and stop
    bars, too small to decode) above the MRZ. Both boxes are added to the items."""
    width, height = PAGE["TD1"]
    if scene.fmt != "TD1" or scene.image.size != (width, 2 * height + height // 12):
        raise ValueError("back marks need an upright TD1 card from render_document")
    rng = np.random.default_rng([seed, 9])
    back = Box(0, height + height // 12, width, 2 * height + height // 12)
    image = scene.image.copy()
    w, h = back.width, back.height
    print_box = Box(back.x0 + 0.74 * w, back.y0 + 0.08 * h, back.x0 + 0.92 * w, back.y0 + 0.46 * h)
    code_box = Box(back.x0 + 0.06 * w, back.y0 + 0.3 * h, back.x0 + 0.62 * w, back.y0 + 0.52 * h)
    finger, oval = _fingerprint(print_box, rng)
    image.paste(finger, (round(print_box.x0), round(print_box.y0)))
    image.paste(_stacked_code(code_box, rng), (round(code_box.x0), round(code_box.y0)))
    print_box = oval.shifted(round(print_box.x0), round(print_box.y0))
    items = [*scene.items, Item(print_box, FINGERPRINT), Item(code_box, CODE)]
    sides = [Box(0, 0, width, height), back]
    return DocumentScene(image, scene.document, scene.fmt, scene.language, items, scene.face, sides)


def _fingerprint(box: Box, rng: np.random.Generator) -> tuple[Image.Image, Box]:
    """Grey ridges in an oval on white: a whorl of rings a few pixels apart, warped; and
    the oval's box (the print without its white field)."""
    w, h = round(box.width), round(box.height)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.55)
    dx, dy = (x - cx) / w, (y - cy) / h
    radius = np.hypot(dx * 1.2, dy) * w + 2.0 * np.sin(3 * np.arctan2(dy, dx))
    ridges = 0.5 + 0.5 * np.sin(radius * 2 * np.pi / rng.uniform(3.5, 5.0))
    oval = (dx / 0.42) ** 2 + (dy / 0.47) ** 2 <= 1
    grey = np.where(oval, 250 - 170 * ridges, 250).astype(np.uint8)
    ys, xs = np.nonzero(oval)
    print_box = Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    return Image.fromarray(np.repeat(grey[..., None], 3, axis=2)), print_box


def _stacked_code(box: Box, rng: np.random.Generator) -> Image.Image:
    """Rows of random one-module bars between solid start and stop bars, black on white."""
    w, h = round(box.width), round(box.height)
    module, rows = 2, 12
    columns = (w - 8 * module) // module
    bars = rng.random((rows, columns)) < 0.5
    bars[:, :4] = bars[:, -4:] = [True, True, False, True]
    cells = np.repeat(np.repeat(bars, h // rows + 1, axis=0)[:h], module, axis=1)
    grey = np.full((h, w), 250, np.uint8)
    grey[:, 4 * module : 4 * module + cells.shape[1]][cells] = 15
    return Image.fromarray(np.repeat(grey[..., None], 3, axis=2))

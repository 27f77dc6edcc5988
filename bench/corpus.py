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
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

from bench.camera_files import camera_jpeg, jpeg_bytes, png_bytes, png_with_metadata, to_stored
from bench.cases import (
    ASTRONAUT,
    CAMERA,
    COMPOSITE,
    DOCUMENT,
    LABEL,
    PRODUCT,
    REAL,
    SHARED_PREFIX,
    TEXT_SCENE,
    Case,
    Corpus,
    TextItem,
    labelled_photos,
    upright_pixels,
)
from bench.surfaces import (
    RGB,
    invent_person,
    packaging_panel,
    surface_panels,
)
from redactor.geometry import Box
from testkit.layout import Layout, margin_spots
from testkit.panels import Panel, Segment, render_panel
from testkit.paths import ROOT, SHARED_IMAGES
from testkit.people import faker
from testkit.photos import sample_photo

DEFAULT_OUT = ROOT / "bench-out" / "corpus"
MANIFEST = "manifest.json"
SEED = 20261122
CANVAS = (1600, 1200)
LAYOUT_GAP = 30

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
    ("MRV", "de"),
    ("MRV", "fr"),
)
#: Width of a small generated document, as a share of the photo's: a card far from the
#: camera, its labels a few pixels tall (document mode reads such a card again, larger).
SMALL_DOCUMENT_SHARE = 0.3

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
MARKER = Box(50, 50, 140, 140)
MARKER_COLOUR: RGB = (220, 20, 30)


# --- the corpus as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How many cases of each kind; the quick plan is the smoke test's."""

    real: tuple[str, ...]
    composites: int
    texts: int
    orientations: tuple[int, ...]
    documents: int = 0
    small_documents: int = 0


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
        small_documents=len(DOCUMENT_LAYOUTS) // 2,
    )


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
    return case, png_bytes(Image.fromarray(pixels))


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
    return case, jpeg_bytes(canvas, quality)


def text_case(index: int, seed: int, *, size: int | None = None) -> tuple[Case, bytes]:
    """Personal text on one surface next to product packaging, blurred and compressed;
    the text ``size`` px (default: one of :data:`TEXT_SIZES` by ``index``)."""
    rng = np.random.default_rng([seed, 2, index])
    locale = LOCALES[index % len(LOCALES)]
    person = invent_person(faker(locale, seed * 1000 + index), locale)
    surface = SURFACES[index % len(SURFACES)]
    font = FONTS[index % len(FONTS)]
    size = size or TEXT_SIZES[index % len(TEXT_SIZES)]
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
        data = png_with_metadata(canvas, person, case)
    else:
        case.attributes["jpeg_quality"] = JPEG_QUALITIES[(index // 2) % len(JPEG_QUALITIES)]
        data = jpeg_bytes(canvas, case.attributes["jpeg_quality"])
    return case, data


def document_case(index: int, seed: int, *, small: bool = False) -> tuple[Case, bytes]:
    """A generated passport page or ID card (front and back) on a table next to a product.

    Fields and MRZ lines are personal text, the portrait's face is a face, labels and
    titles must stay readable, and everything inside the document may be redacted.
    ``small``: another card, :data:`SMALL_DOCUMENT_SHARE` of the photo's width.
    """
    from testkit.documents import FIELD, MRZ_LINE, document_scene, to_jpeg

    fmt, language = DOCUMENT_LAYOUTS[index % len(DOCUMENT_LAYOUTS)]
    share, name = (SMALL_DOCUMENT_SHARE, "document-small") if small else (None, "document")
    scene = document_scene(
        fmt, language, seed * 100 + index + (50 if small else 0), canvas=CANVAS, share=share
    )
    kinds = {FIELD: "pii.document_field", MRZ_LINE: "pii.mrz", LABEL: LABEL, PRODUCT: PRODUCT}
    case = Case(
        id=f"{name}-{index:02d}",
        kind=DOCUMENT,
        path=f"{name}-{index:02d}.jpg",
        upright_size=CANVAS,
        faces=[scene.face] if scene.face is not None else [],
        ignore=list(scene.documents),
        text=[TextItem(i.box, kinds[i.kind], i.text) for i in scene.items if i.kind in kinds],
    )
    quality = JPEG_QUALITIES[index % len(JPEG_QUALITIES)]
    case.attributes.update(format=fmt, language=language, jpeg_quality=quality, small=small)
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


# --- building --------------------------------------------------------------------------------


def build_cases(plan: Plan, seed: int) -> list[tuple[Case, bytes | None]]:
    """Every case of ``plan`` with its encoded bytes (None for shared photos read in place)."""
    built = [real_case(name) for name in plan.real]
    built += [composite_case(i, seed) for i in range(plan.composites)]
    built += [text_case(i, seed) for i in range(plan.texts)]
    built += [camera_case(i, o, seed) for i, o in enumerate(plan.orientations)]
    built += [document_case(i, seed) for i in range(plan.documents)]
    built += [document_case(i, seed, small=True) for i in range(plan.small_documents)]
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

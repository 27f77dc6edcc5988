"""Build the bundled sample images in samples/ (run once; the outputs are committed).

Sources: scikit-image's sample photos `astronaut` (NASA, public domain) and `coffee`
(CC0, Rachel Michetti). Personal data is invented by Faker with a fixed seed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from faker import Faker
from PIL import Image, ImageDraw, ImageFont
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "samples"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
fake = Faker("en_US")
Faker.seed(20261121)


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(BOLD if bold else FONT, size)


def camera_exif(width: int, height: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "EC-1"  # Model
    exif[0x013B] = fake.name()  # Artist
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(0x8769)[0xA431] = "SN4711081599"  # BodySerialNumber
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 10:11:12"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    return exif.tobytes()


def astronaut_with_metadata() -> None:
    image = Image.fromarray(data.astronaut())
    thumb = io.BytesIO()
    image.resize((160, 160)).save(thumb, "JPEG", quality=80)
    exif = Image.Exif()
    exif.load(camera_exif(*image.size))
    exif.get_ifd(0x8769)  # keep the sub-IFDs populated
    path = OUT / "studio" / "astronaut_camera.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
        + fake.name().encode()
        + b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    image.save(path, "JPEG", quality=92, exif=exif, xmp=xmp, comment=b"shot for catalogue 2026")


def shipping_label_scene() -> None:
    cup = Image.fromarray(data.coffee()).resize((800, 532))
    canvas = Image.new("RGB", (1200, 800), (236, 232, 226))
    canvas.paste(cup, (30, 40))
    draw = ImageDraw.Draw(canvas)
    draw.text((60, 600), "ORGANIC COFFEE", font=font(48, bold=True), fill=(60, 40, 20))
    draw.text((60, 665), "Single origin  250 g  Medium roast", font=font(28), fill=(60, 40, 20))
    label = Image.new("RGB", (360, 330), (255, 255, 255))
    ldraw = ImageDraw.Draw(label)
    lines = [
        ("SHIP TO:", True),
        (fake.name().upper(), False),
        (fake.street_address(), False),
        (f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}", False),
        (f"Tel: {fake.numerify('(###) 555-####')}", False),
        (fake.free_email(), False),
        ("TRACKING #", True),
        ("1Z 999 AA1 01 2345 6784", False),
    ]
    y = 14
    for text, bold in lines:
        ldraw.text((16, y), text, font=font(22, bold=bold), fill=(0, 0, 0))
        y += 38
    canvas.paste(label.rotate(2, expand=True, fillcolor=(236, 232, 226)), (830, 320))
    path = OUT / "marketplace" / "coffee_shipping_label.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)


def product_scene_with_bystander() -> None:
    canvas = Image.new("RGB", (1600, 1200), (245, 245, 242))
    cup = Image.fromarray(data.coffee()).resize((900, 600))
    canvas.paste(cup, (350, 300))
    face = Image.fromarray(data.astronaut()).crop((140, 20, 330, 240)).resize((95, 110))
    canvas.paste(face, (1420, 60))
    path = OUT / "marketplace" / "product_with_bystander.jpg"
    canvas.save(path, "JPEG", quality=90, exif=camera_exif(1600, 1200))


def receipt() -> None:
    paper = Image.new("RGB", (520, 760), (250, 250, 247))
    draw = ImageDraw.Draw(paper)
    rows = [
        "CORNER ROASTERS",
        "12 Market Street",
        "",
        "Flat white            3.40",
        "Almond croissant      2.90",
        "Coffee beans 250 g   11.50",
        "",
        "TOTAL                17.80",
        "VISA  4111 1111 1111 1111",
        f"Customer: {fake.name()}",
        f"{fake.free_email()}",
        "Thank you!",
    ]
    y = 30
    for row in rows:
        draw.text((30, y), row, font=font(24), fill=(20, 20, 20))
        y += 52
    rng = np.random.default_rng(1)
    photo = np.asarray(paper, dtype=np.int16) + rng.normal(0, 4, (760, 520, 3)).astype(np.int16)
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).rotate(
        -3, expand=True, fillcolor=(90, 80, 70)
    )
    path = OUT / "receipts" / "receipt.webp"
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "WEBP", quality=90)


if __name__ == "__main__":
    astronaut_with_metadata()
    shipping_label_scene()
    product_scene_with_bystander()
    receipt()
    for p in sorted(OUT.rglob("*.*")):
        print(p.relative_to(OUT), p.stat().st_size)

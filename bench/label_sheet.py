"""Review sheets for a real-image label file: every labelled box drawn over its image.

``python -m bench.label_sheet NAME OUT_DIR [--only FILE ...] [--scale S]``

``NAME`` is a label file in ``bench/data`` without ``.json`` (``real_documents``,
``real_faces``) or a path to one. Each labelled image is written to ``OUT_DIR`` as a PNG
(enlarged so that small specimens can be read), each box outlined in its class's colour
with its number, and a legend under the image: number, class and box. Use it to check
labels by eye; zoom into the PNGs where the print is small.

The file needs only the layout the real-image label files share (``bench/data/*.json``):
``{"images": {file: {group: [item, ...]}}}`` where an item is a dict holding one or more
``[x0, y0, x1, y1]`` boxes. A box's class is its group, then the item's ``kind`` or
``type``, then its ``field`` or ``line`` and the key when it is not ``box``: for example
``personal/field/surname``, ``personal/mrz/2``, ``keep/label``, ``faces/head``.
Files are read from ``../shared/test-images`` (``skimage:<name>`` is scikit-image's
sample picture); the images are only read, never written.
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
SHARED_IMAGES = ROOT.parent / "shared" / "test-images"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
#: Small images are enlarged until their long side reaches this (at most 4 times).
TARGET_SIDE = 1400
MAX_SCALE = 4.0
#: Classes the sheets of the real-document labels show in fixed, easily told colours.
COLOURS: dict[str, tuple[int, int, int]] = {
    "documents": (40, 40, 40),
    "personal/field": (230, 25, 25),
    "personal/mrz": (200, 0, 200),
    "personal/portrait": (255, 140, 0),
    "personal/ghost_portrait": (255, 140, 0),
    "personal/signature": (150, 60, 0),
    "personal/fingerprint": (150, 60, 0),
    "personal/barcode": (150, 60, 0),
    "keep": (0, 150, 0),
    "faces/head": (255, 140, 0),
    "faces/face": (0, 120, 255),
}


@dataclass(frozen=True)
class LabelBox:
    """One labelled box: its number in the sheet, its class and ``[x0, y0, x1, y1]``."""

    number: int
    label: str
    box: tuple[int, int, int, int]


def load_labels(name: str) -> dict[str, Any]:
    """The label file ``bench/data/NAME.json``, or ``NAME`` itself if it is a path."""
    path = Path(name)
    if not path.suffix:
        path = DATA / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"label file {path} not found")
    labels: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(labels.get("images"), dict):
        raise ValueError(f"{path} has no 'images' object")
    return labels


def _is_box(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _class_of(group: str, item: Mapping[str, Any], key: str) -> str:
    parts = [group]
    for name in ("kind", "type", "field", "line"):
        if name in item and not isinstance(item[name], dict | list):
            parts.append(str(item[name]))
    if key != "box":
        parts.append(key)
    return "/".join(parts)


def label_boxes(entry: Mapping[str, Any]) -> list[LabelBox]:
    """Every box in one image's labels, numbered in file order."""
    found: list[tuple[str, list[float]]] = []
    for group, items in entry.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if _is_box(item):
                found.append((group, item))
            elif isinstance(item, dict):
                found.extend(
                    (_class_of(group, item, key), value)
                    for key, value in item.items()
                    if _is_box(value)
                )
    return [
        LabelBox(number, label, (round(b[0]), round(b[1]), round(b[2]), round(b[3])))
        for number, (label, b) in enumerate(found, start=1)
    ]


def colour(label: str) -> tuple[int, int, int]:
    """The class's fixed colour (by its longest known prefix), else a stable hashed one."""
    for prefix in sorted(COLOURS, key=len, reverse=True):
        if label == prefix or label.startswith(prefix + "/"):
            return COLOURS[prefix]
    hue = int(hashlib.sha256(label.encode()).hexdigest()[:4], 16) / 0xFFFF
    r, g, b = colorsys.hsv_to_rgb(hue, 0.9, 0.85)
    return round(r * 255), round(g * 255), round(b * 255)


def load_image(name: str) -> Image.Image:
    """The labelled image upright (EXIF orientation applied, as redactor decodes it)."""
    if name.startswith("skimage:"):
        from skimage import data

        return Image.fromarray(np.asarray(getattr(data, name.split(":", 1)[1])())).convert("RGB")
    path = SHARED_IMAGES / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: is ../shared/ beside the repository?")
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def sheet_scale(width: int, height: int) -> float:
    return min(MAX_SCALE, max(1.0, TARGET_SIDE / max(width, height)))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(FONT), size) if FONT.is_file() else ImageFont.load_default()


def render(
    image: Image.Image, boxes: Sequence[LabelBox], scale: float | None = None
) -> Image.Image:
    """``image`` enlarged by ``scale`` with ``boxes`` outlined and numbered, legend below."""
    scale = scale or sheet_scale(image.width, image.height)
    width, height = round(image.width * scale), round(image.height * scale)
    big = image.resize((width, height), Image.Resampling.LANCZOS)
    font = _font(13)
    line_height = 17
    legend = [f"{item.number} {item.label} {list(item.box)}" for item in boxes]
    column_width = 12 + max((round(font.getlength(text)) for text in legend), default=1)
    columns = max(1, width // column_width)
    rows = max(1, -(-len(boxes) // columns))
    size = (max(width, column_width), height + rows * line_height + 8)
    sheet = Image.new("RGB", size, (255, 255, 255))
    sheet.paste(big, (0, 0))
    draw = ImageDraw.Draw(sheet)
    for item in boxes:
        x0, y0, x1, y1 = (round(v * scale) for v in item.box)
        ink = colour(item.label)
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=ink, width=2)
        # The number sits just above the box so that it hides none of the labelled text.
        draw.text((x0 + 1, max(0, y0 - 14)), str(item.number), fill=ink, font=font)
    for index, (item, text) in enumerate(zip(boxes, legend, strict=True)):
        row, column = index % rows, index // rows
        xy = (4 + column * column_width, height + 4 + row * line_height)
        draw.text(xy, text, fill=colour(item.label), font=font)
    return sheet


def sheets(
    labels: Mapping[str, Any], only: Sequence[str] = (), scale: float | None = None
) -> Iterator[tuple[str, Image.Image]]:
    """(file name, sheet) for every labelled image, or for those named in ``only``."""
    images: Mapping[str, Any] = labels["images"]
    missing = [name for name in only if name not in images]
    if missing:
        raise KeyError(f"not in the label file: {', '.join(missing)}")
    for name, entry in images.items():
        if only and name not in only:
            continue
        yield name, render(load_image(name), label_boxes(entry), scale)


def sheet_name(image_name: str) -> str:
    return image_name.replace(":", "_").rsplit(".", 1)[0] + ".sheet.png"


def main(argv: Sequence[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description="Draw a label file's boxes over its images.")
    parser.add_argument("labels", help="bench/data file name without .json, or a path")
    parser.add_argument("out", type=Path, help="folder for the PNG sheets")
    parser.add_argument("--only", nargs="+", default=[], help="image file names to render")
    parser.add_argument("--scale", type=float, help="enlargement (default: long side ~1400 px)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for name, sheet in sheets(load_labels(args.labels), args.only, args.scale):
            path = args.out / sheet_name(name)
            sheet.save(path)
            written.append(path)
            print(path)
    except (FileNotFoundError, KeyError, ValueError) as error:
        parser.error(str(error.args[0]))
    return written


if __name__ == "__main__":
    main()

"""EXIF blocks (a TIFF structure after ``Exif\\0\\0``): their metadata groups and Orientation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from redactor.containers.tiff_structure import Entry, TiffStructure

EXIF_HEADER = b"Exif\x00\x00"

ORIENTATION_TAG = 0x0112

EXIF_IFD_TAG = 0x8769

GPS_IFD_TAG = 0x8825

MAKERNOTE_TAG = 0x927C

_EXIF_POINTERS = frozenset({EXIF_IFD_TAG, GPS_IFD_TAG})


def _strip_exif_header(block: bytes) -> bytes:
    return block[len(EXIF_HEADER) :] if block.startswith(EXIF_HEADER) else block


@dataclass(frozen=True)
class Orientation:
    """An Orientation tag as a viewer reads it: 1-8, and a note when the tag held
    something else (0, 9, 65535, text), which browsers, Pillow and exiftool show as 1."""

    value: int = 1
    note: str | None = None


def orientation_of(tiff: TiffStructure, entry: Entry | None, where: str) -> Orientation:
    """The Orientation in ``entry`` (1 when absent); ``where`` names the tag in a note."""
    if entry is None:
        return Orientation()
    value = tiff.integer(entry)
    if value is not None and 1 <= value <= 8:
        return Orientation(value)
    shown = "a value that is not a number" if value is None else str(value)
    return Orientation(1, f"the {where} Orientation tag holds {shown}, not 1-8: treated as 1")


def exif_orientation(block: bytes) -> Orientation:
    """The Orientation of an EXIF block's IFD0; 1 when no tag can be read at all (the
    block is garbage), as every viewer then shows the picture."""
    tiff = TiffStructure.parse(_strip_exif_header(block))
    ifd0 = None if tiff is None else tiff.ifd(tiff.first_ifd)
    if tiff is None or ifd0 is None:
        return Orientation()
    return orientation_of(tiff, ifd0.entries.get(ORIENTATION_TAG), "EXIF")


def count_exif(block: bytes, groups: Counter[str]) -> None:
    tiff = TiffStructure.parse(_strip_exif_header(block))
    ifd0 = None if tiff is None else tiff.ifd(tiff.first_ifd)
    if tiff is None or ifd0 is None:
        groups["exif"] += 1  # present but unreadable: still metadata
        return
    exif_ifd = tiff.sub_ifd(ifd0, EXIF_IFD_TAG)
    tags = len(ifd0.entries.keys() - _EXIF_POINTERS) + (len(exif_ifd.entries) if exif_ifd else 0)
    if tags:
        groups["exif"] += tags
    if exif_ifd is not None and MAKERNOTE_TAG in exif_ifd.entries:
        groups["makernote"] += 1
    if GPS_IFD_TAG in ifd0.entries:
        gps = tiff.sub_ifd(ifd0, GPS_IFD_TAG)
        groups["gps"] += max(1, len(gps.entries) if gps else 0)
    thumbnail = tiff.ifd(ifd0.next_offset)
    if thumbnail is not None and thumbnail.entries:
        groups["exif_thumbnail"] += 1

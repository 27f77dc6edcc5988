"""EXIF blocks (a TIFF structure after ``Exif\\0\\0``): their metadata groups and Orientation."""

from __future__ import annotations

from collections import Counter

from redactor.containers.tiff_structure import TiffStructure
from redactor.errors import CorruptImage

EXIF_HEADER = b"Exif\x00\x00"

ORIENTATION_TAG = 0x0112

EXIF_IFD_TAG = 0x8769

GPS_IFD_TAG = 0x8825

MAKERNOTE_TAG = 0x927C

_EXIF_POINTERS = frozenset({EXIF_IFD_TAG, GPS_IFD_TAG})


def _strip_exif_header(block: bytes) -> bytes:
    return block[len(EXIF_HEADER) :] if block.startswith(EXIF_HEADER) else block


def exif_orientation(block: bytes) -> int | None:
    """The Orientation tag of an EXIF block; None when no tag can be read at all.

    Raises :class:`CorruptImage` when the tag is there but holds no valid orientation (1-8):
    the file then asks for a rotation redactor cannot honour.
    """
    tiff = TiffStructure.parse(_strip_exif_header(block))
    ifd0 = None if tiff is None else tiff.ifd(tiff.first_ifd)
    if tiff is None or ifd0 is None or ORIENTATION_TAG not in ifd0.entries:
        return None
    value = tiff.integer(ifd0.entries[ORIENTATION_TAG])
    if value is None or not 1 <= value <= 8:
        shown = "a non-integer value" if value is None else str(value)
        raise CorruptImage(f"the EXIF Orientation tag holds {shown}; expected 1 to 8")
    return value


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

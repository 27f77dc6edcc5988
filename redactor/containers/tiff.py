"""The TIFF walker: metadata in every page (IFD) of the chain, and each page's layout."""

from __future__ import annotations

from collections import Counter

from redactor.containers.exif import (
    EXIF_IFD_TAG,
    GPS_IFD_TAG,
    MAKERNOTE_TAG,
    ORIENTATION_TAG,
    orientation_of,
)
from redactor.containers.facts import Found, TiffPage
from redactor.containers.formats import unsupported
from redactor.containers.photoshop import count_iptc, count_photoshop_irb
from redactor.containers.tiff_structure import Ifd, TiffStructure

#: Most IFDs followed in one TIFF file: far above any real multi-page document.
_MAX_TIFF_PAGES = 10_000


#: TIFF tags that only describe how pixels are stored; every other tag counts as metadata.
_TIFF_STRUCTURAL_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 282,
        283, 284, 286, 287, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 322,
        323, 324, 325, 338, 339, 340, 341, 347, 529, 530, 531, 532,
    }
)  # fmt: skip

_TIFF_BLOB_GROUPS = {700: "xmp", 330: "tiff_subifds"}

_TIFF_IPTC_TAG, _TIFF_PHOTOSHOP_TAG, _TIFF_ICC_TAG = 33723, 34377, 34675


def walk_tiff(data: bytes) -> Found:
    """Metadata and layout of every page (IFD) of a TIFF file's chain."""
    found = Found()
    tiff = TiffStructure.parse(data)
    if tiff is None:
        return found
    offset, seen = tiff.first_ifd, set[int]()
    while offset and offset not in seen and len(seen) < _MAX_TIFF_PAGES:
        seen.add(offset)
        page = tiff.ifd(offset)
        if page is None:
            break
        _count_tiff_page(tiff, page, found.groups, found.icc_profiles)
        found.tiff_pages.append(_page_layout(tiff, page))
        offset = page.next_offset
    return found


_WIDTH, _HEIGHT, _BITS, _PHOTOMETRIC, _SAMPLES = 256, 257, 258, 262, 277
_DNG_VERSION, _SUB_IFDS = 50706, 330
_RAW_PHOTOMETRICS = frozenset({32803, 34892})  # colour filter array, linear raw
_GREY_OR_RGB_PHOTOMETRICS = frozenset({1, 2})


def _page_layout(tiff: TiffStructure, page: Ifd) -> TiffPage:
    """The page's stored size, orientation and sample depth, read from its own tags."""

    def values(tag: int, default: tuple[int, ...]) -> tuple[int, ...]:
        entry = page.entries.get(tag)
        return default if entry is None else tiff.integers(entry)

    photometric = values(_PHOTOMETRIC, (-1,))[:1]
    # TIFF-based RAW files (DNG, NEF, ARW, PEF...) hold sensor data a TIFF decoder misreads.
    if {_DNG_VERSION, _SUB_IFDS} & page.entries.keys() or set(photometric) & _RAW_PHOTOMETRICS:
        raise unsupported("camera RAW (TIFF-based: DNG, NEF)")
    width, height = values(_WIDTH, (0,))[:1] or (0,), values(_HEIGHT, (0,))[:1] or (0,)
    sixteen_bit_colour = (
        16 in values(_BITS, (8,))
        and (values(_SAMPLES, (1,))[:1] or (1,))[0] >= 2
        and bool(set(photometric) & _GREY_OR_RGB_PHOTOMETRICS)
    )
    orientation = orientation_of(tiff, page.entries.get(ORIENTATION_TAG), "TIFF page's")
    return TiffPage((width[0], height[0]), orientation.value, sixteen_bit_colour, orientation.note)


def _count_tiff_page(
    tiff: TiffStructure, page: Ifd, groups: Counter[str], profiles: list[bytes]
) -> None:
    for tag, entry in page.entries.items():
        if tag in _TIFF_STRUCTURAL_TAGS:
            continue
        if tag == EXIF_IFD_TAG:
            exif_ifd = tiff.ifd(tiff.pointer(entry))
            groups["exif"] += max(1, len(exif_ifd.entries) if exif_ifd else 0)
            if exif_ifd is not None and MAKERNOTE_TAG in exif_ifd.entries:
                groups["makernote"] += 1
        elif tag == GPS_IFD_TAG:
            gps = tiff.ifd(tiff.pointer(entry))
            groups["gps"] += max(1, len(gps.entries) if gps else 0)
        elif tag == _TIFF_IPTC_TAG:
            count_iptc(tiff.blob(entry), groups)
        elif tag == _TIFF_PHOTOSHOP_TAG:
            count_photoshop_irb(tiff.blob(entry), groups)
        elif tag == _TIFF_ICC_TAG:
            groups["icc"] += 1
            profiles.append(tiff.blob(entry))
        else:
            groups[_TIFF_BLOB_GROUPS.get(tag, "exif")] += 1

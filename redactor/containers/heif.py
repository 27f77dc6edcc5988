"""HEIF: metadata of every top-level image, as pillow-heif reads the boxes (no pixels)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pillow_heif

from redactor.containers.facts import Found
from redactor.errors import CorruptImage

_HEIF_ERRORS = (OSError, ValueError, SyntaxError, EOFError, RuntimeError, KeyError)


def walk_heif(data: bytes) -> Found:
    """Metadata of every top-level image in a HEIF, as pillow-heif reads it (no pixels)."""
    found = Found(lossless=False)
    try:
        images = list(pillow_heif.open_heif(io.BytesIO(data)))
    except _HEIF_ERRORS as error:
        raise CorruptImage("the HEIF container cannot be parsed") from error
    for image in images:
        _count_heif_image(image.info, found)
    return found


def _count_heif_image(info: Mapping[str, object], found: Found) -> None:
    groups = found.groups
    exif = info.get("exif")
    if isinstance(exif, bytes) and exif:
        groups["heif_exif"] += 1
        found.add_exif(exif)
    if info.get("xmp"):
        groups["heif_xmp"] += 1
    profile = info.get("icc_profile")
    if profile:
        groups["icc"] = 1
        found.icc_profiles.append(profile if isinstance(profile, bytes) else b"")
    for key, group in (
        ("metadata", "heif_metadata"),
        ("thumbnails", "heif_thumbnail"),
        ("depth_images", "heif_depth"),
        ("aux", "heif_aux"),
    ):
        value = info.get(key)
        if isinstance(value, list | dict) and value:
            groups[group] += len(value)

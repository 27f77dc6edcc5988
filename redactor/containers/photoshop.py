"""Photoshop image resources (``8BIM``) and the IPTC-IIM datasets inside them or in TIFF tags."""

from __future__ import annotations

import struct
from collections import Counter

_IPTC_RESOURCE = 0x0404

_THUMBNAIL_RESOURCES = frozenset({0x0409, 0x040C})


def count_photoshop_irb(blob: bytes, groups: Counter[str]) -> None:
    """Count ``8BIM`` resources; IPTC and thumbnails inside them get their own groups."""
    position, resources = 0, 0
    while position + 12 <= len(blob) and blob[position : position + 4] == b"8BIM":
        (resource_id,) = struct.unpack_from(">H", blob, position + 4)
        name_field = 1 + blob[position + 6]
        size_at = position + 6 + name_field + (name_field & 1)
        if size_at + 4 > len(blob):
            break
        (size,) = struct.unpack_from(">I", blob, size_at)
        body = blob[size_at + 4 : size_at + 4 + size]
        resources += 1
        if resource_id == _IPTC_RESOURCE:
            count_iptc(body, groups)
        elif resource_id in _THUMBNAIL_RESOURCES:
            groups["photoshop_thumbnail"] += 1
        position = size_at + 4 + size + (size & 1)
    groups["photoshop_irb"] += max(1, resources)


def count_iptc(blob: bytes, groups: Counter[str]) -> None:
    """Count IPTC-IIM datasets (each starts with 0x1C, record, dataset, size)."""
    position, datasets = 0, 0
    while position + 5 <= len(blob) and blob[position] == 0x1C:
        (size,) = struct.unpack_from(">H", blob, position + 3)
        header = 5
        if size & 0x8000:  # extended dataset: the size is in the next (size & 0x7FFF) bytes
            header += size & 0x7FFF
            size = int.from_bytes(blob[position + 5 : position + header], "big")
        datasets += 1
        position += header + size
    groups["iptc"] += max(1, datasets)

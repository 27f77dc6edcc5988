"""The GIF walker: comment, plain-text and application extensions, data after the trailer."""

from __future__ import annotations

from collections import Counter

from redactor.containers.facts import Found

_GIF_HEADER_SIZE = 13

_GIF_EXTENSION, _GIF_IMAGE, _GIF_TRAILER = 0x21, 0x2C, 0x3B

_GIF_LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")

_GIF_EXTENSION_GROUPS = {0xFE: "gif_comment", 0x01: "gif_plain_text"}


def walk_gif(data: bytes) -> Found:
    """Comment, plain-text and application extensions in a GIF, and data after the trailer."""
    found = Found()
    position = _GIF_HEADER_SIZE + _colour_table_size(data[10:11])
    while position < len(data):
        block = data[position]
        if block == _GIF_TRAILER:
            if position + 1 < len(data):
                found.groups["trailing_data"] += 1
            break
        if block == _GIF_EXTENSION and position + 1 < len(data):
            _classify_gif_extension(
                data[position + 1], data[position + 2 : position + 14], found.groups
            )
            position = _skip_sub_blocks(data, position + 2)
        elif block == _GIF_IMAGE:
            descriptor_end = position + 10
            position = descriptor_end + _colour_table_size(data[position + 9 : descriptor_end])
            position = _skip_sub_blocks(data, position + 1)  # +1: LZW minimum code size
        else:
            break  # not a GIF block: the decoder would stop here too
    return found


def _colour_table_size(flags: bytes) -> int:
    if not flags or not flags[0] & 0x80:
        return 0
    return 3 << ((flags[0] & 0x07) + 1)


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position]:
        position += 1 + data[position]
    return position + 1


def _classify_gif_extension(label: int, first_block: bytes, groups: Counter[str]) -> None:
    if label in _GIF_EXTENSION_GROUPS:
        groups[_GIF_EXTENSION_GROUPS[label]] += 1
    elif label == 0xFF:
        application = first_block[1:12]  # after the block size byte: identifier + auth code
        if application.startswith(b"XMP Data"):
            groups["xmp"] += 1
        elif application.startswith(b"ICCRGBG1"):
            groups["icc"] += 1
        elif application not in _GIF_LOOP_APPLICATIONS:
            groups["gif_application_data"] += 1

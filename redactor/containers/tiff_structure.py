"""The TIFF structure shared by TIFF files and EXIF blocks: a header and chains of IFDs.

Read straight from the bytes, classic TIFF and BigTIFF, with every read clipped to the
data: an entry that would run past the end is left out, never read out of bounds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_TIFF_HEADERS = {
    b"II*\x00": ("<", False),
    b"MM\x00*": (">", False),
    b"II+\x00": ("<", True),
    b"MM\x00+": (">", True),
}

_INTEGER_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 18: "Q"}

_TYPE_SIZES = {
    **{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4},
    **{16: 8, 17: 8, 18: 8},  # BigTIFF's 8-byte integers and IFD offsets
}


@dataclass(frozen=True)
class Entry:
    type: int
    count: int
    #: The value/offset field: the value itself when it fits, else where it starts.
    field: bytes


@dataclass(frozen=True)
class Ifd:
    entries: dict[int, Entry]
    next_offset: int


@dataclass(frozen=True)
class TiffStructure:
    """A TIFF structure (classic or BigTIFF) read straight from its bytes."""

    data: bytes
    endian: str
    big: bool

    @classmethod
    def parse(cls, data: bytes) -> TiffStructure | None:
        layout = _TIFF_HEADERS.get(data[:4])
        return None if layout is None else cls(data, *layout)

    @property
    def first_ifd(self) -> int:
        return self._offset_at(8 if self.big else 4)

    def ifd(self, offset: int) -> Ifd | None:
        """The IFD at ``offset``; entries that would run past the data are left out."""
        if self.big:
            count_code, value_code, entry_size = "Q", "Q", 20
        else:
            count_code, value_code, entry_size = "H", "I", 12
        start = offset + struct.calcsize(count_code)
        if offset < 8 or start > len(self.data):
            return None
        (declared,) = struct.unpack_from(self.endian + count_code, self.data, offset)
        count = min(declared, (len(self.data) - start) // entry_size)
        entries: dict[int, Entry] = {}
        for index in range(count):
            entry = start + index * entry_size
            tag, kind, number = struct.unpack_from(
                self.endian + "HH" + value_code, self.data, entry
            )
            value_at = entry + 4 + struct.calcsize(value_code)
            entries[tag] = Entry(kind, number, self.data[value_at : entry + entry_size])
        return Ifd(entries, self._offset_at(start + count * entry_size))

    def integer(self, entry: Entry) -> int | None:
        """The first value of an integer-typed entry, else None."""
        code = _INTEGER_TYPES.get(entry.type)
        if code is None or entry.count < 1 or struct.calcsize(code) > len(entry.field):
            return None
        return int(struct.unpack_from(self.endian + code, entry.field)[0])

    def integers(self, entry: Entry) -> tuple[int, ...]:
        """Every value of an integer-typed entry (those that lie inside the data)."""
        code = _INTEGER_TYPES.get(entry.type)
        if code is None:
            return ()
        blob = self.blob(entry)
        count = len(blob) // struct.calcsize(code)
        return tuple(int(v) for v in struct.unpack_from(f"{self.endian}{count}{code}", blob))

    def blob(self, entry: Entry) -> bytes:
        """The raw bytes of an entry's value (clipped to the data)."""
        size = _TYPE_SIZES.get(entry.type, 1) * entry.count
        if size <= len(entry.field):
            return entry.field[:size]
        start = self.pointer(entry)
        return self.data[start : start + size]

    def sub_ifd(self, parent: Ifd, tag: int) -> Ifd | None:
        entry = parent.entries.get(tag)
        return None if entry is None else self.ifd(self.pointer(entry))

    def pointer(self, entry: Entry) -> int:
        """The entry's value read as an offset into the data."""
        return self._unsigned(entry.field)

    def _unsigned(self, value_field: bytes) -> int:
        return int(struct.unpack_from(self.endian + ("Q" if self.big else "I"), value_field)[0])

    def _offset_at(self, position: int) -> int:
        size = 8 if self.big else 4
        if position + size > len(self.data):
            return 0
        return self._unsigned(self.data[position : position + size])

"""Typed values of the ICC tag types redactor reads and writes (ICC.1:2022, clause 10).

A value keeps its numbers exactly as stored (fixed-point integers, table bytes), so a
profile written back from values renders colours exactly as the one they were read
from. :func:`read_value` reads only what a type defines and refuses a tag too short
for what it declares; :func:`write_value` writes each type one canonical way, with
every reserved and padding byte zero, so nothing but the values survives a round trip.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass


class IccError(ValueError):
    """A profile or a tag that cannot be read exactly."""


@dataclass(frozen=True, slots=True)
class XYZValue:
    """``XYZ ``: XYZ numbers, three s15Fixed16 per colour."""

    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CurveValue:
    """``curv``: no entry (identity), one (a gamma, u8Fixed8) or a table of uInt16."""

    entries: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ParametricValue:
    """``para``: one of the five parametric curves, its parameters s15Fixed16."""

    function: int
    params: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class S15Value:
    """``sf32``: an array of s15Fixed16 (``chad`` holds a 3x3 matrix)."""

    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChromaticityValue:
    """``chrm``: the colorant type and an (x, y) u16Fixed16 pair per channel."""

    colorant: int
    coordinates: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LegacyLutValue:
    """``mft1`` (8-bit) or ``mft2`` (16-bit): matrix, input tables, CLUT, output tables."""

    signature: bytes
    inputs: int
    outputs: int
    grid: int
    matrix: tuple[int, ...]
    input_entries: int
    output_entries: int
    #: Input tables, CLUT and output tables, as stored.
    tables: bytes


@dataclass(frozen=True, slots=True)
class Clut:
    grid: tuple[int, ...]
    #: Bytes per entry: 1 or 2.
    precision: int
    data: bytes


Curve = CurveValue | ParametricValue


@dataclass(frozen=True, slots=True)
class LutABValue:
    """``mAB `` or ``mBA ``: B curves, then an optional matrix, M curves, CLUT, A curves."""

    signature: bytes
    inputs: int
    outputs: int
    b_curves: tuple[Curve, ...]
    matrix: tuple[int, ...] | None
    m_curves: tuple[Curve, ...] | None
    clut: Clut | None
    a_curves: tuple[Curve, ...] | None


@dataclass(frozen=True, slots=True)
class TextValue:
    """``text``: 7-bit text."""

    text: str


@dataclass(frozen=True, slots=True)
class DescriptionValue:
    """``desc`` (version 2): the ASCII description; Unicode and ScriptCode parts empty."""

    text: str


@dataclass(frozen=True, slots=True)
class LocalizedValue:
    """``mluc``: (language and country code, e.g. ``enUS``; text) records."""

    records: tuple[tuple[str, str], ...]


TagValue = (
    XYZValue
    | CurveValue
    | ParametricValue
    | S15Value
    | ChromaticityValue
    | LegacyLutValue
    | LutABValue
    | TextValue
    | DescriptionValue
    | LocalizedValue
)

_TYPE_HEADER = 8
_PARAMETER_COUNTS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
_MAX_CHANNELS = 15
_MAX_TABLE_ENTRIES = 4096


def _ints(code: str, data: bytes, offset: int, count: int) -> tuple[int, ...]:
    size = struct.calcsize(code) * count
    if count < 0 or offset + size > len(data):
        raise IccError("a tag is shorter than its values")
    return tuple(int(v) for v in struct.unpack_from(f">{count}{code}", data, offset))


def _bytes(data: bytes, offset: int, size: int) -> bytes:
    if offset + size > len(data):
        raise IccError("a tag is shorter than its table")
    return data[offset : offset + size]


def _channels(count: int) -> int:
    if not 1 <= count <= _MAX_CHANNELS:
        raise IccError("a lookup table has an invalid number of channels")
    return count


# --- Reading ---------------------------------------------------------------------------------


def _read_xyz(data: bytes) -> XYZValue:
    count = (len(data) - _TYPE_HEADER) // 12 * 3
    if count < 3:
        raise IccError("an XYZ tag holds no XYZ number")
    return XYZValue(_ints("i", data, _TYPE_HEADER, count))


def _read_curve(data: bytes) -> CurveValue:
    (count,) = _ints("I", data, _TYPE_HEADER, 1)
    return CurveValue(_ints("H", data, 12, count))


def _read_parametric(data: bytes) -> ParametricValue:
    (function,) = _ints("H", data, _TYPE_HEADER, 1)
    if function not in _PARAMETER_COUNTS:
        raise IccError("a parametric curve of unknown function type")
    return ParametricValue(function, _ints("i", data, 12, _PARAMETER_COUNTS[function]))


def _read_s15(data: bytes) -> S15Value:
    return S15Value(_ints("i", data, _TYPE_HEADER, (len(data) - _TYPE_HEADER) // 4))


def _read_chromaticity(data: bytes) -> ChromaticityValue:
    channels, colorant = _ints("H", data, _TYPE_HEADER, 2)
    return ChromaticityValue(colorant, _ints("I", data, 12, 2 * channels))


def _read_legacy_lut(data: bytes) -> LegacyLutValue:
    inputs, outputs, grid = (_channels(data[8]), _channels(data[9]), data[10])
    if grid < 2:
        raise IccError("a lookup table with fewer than two grid points")
    matrix = _ints("i", data, 12, 9)
    if data[:4] == b"mft1":
        input_entries = output_entries = 256
        start, size = 48, 1
    else:
        input_entries, output_entries = _ints("H", data, 48, 2)
        start, size = 52, 2
    if not (2 <= input_entries <= _MAX_TABLE_ENTRIES and 2 <= output_entries <= _MAX_TABLE_ENTRIES):
        raise IccError("a lookup table with an invalid number of table entries")
    entries = inputs * input_entries + grid**inputs * outputs + outputs * output_entries
    tables = _bytes(data, start, entries * size)
    return LegacyLutValue(
        data[:4], inputs, outputs, grid, matrix, input_entries, output_entries, tables
    )


def _read_embedded_curve(data: bytes, offset: int) -> tuple[Curve, int]:
    """A curve inside a lutAtoB/lutBtoA tag and where the next one starts (4-byte aligned)."""
    kind = data[offset : offset + 4]
    if kind == b"curv":
        (count,) = _ints("I", data, offset + 8, 1)
        curve: Curve = CurveValue(_ints("H", data, offset + 12, count))
    elif kind == b"para":
        (function,) = _ints("H", data, offset + 8, 1)
        if function not in _PARAMETER_COUNTS:
            raise IccError("a parametric curve of unknown function type")
        curve = ParametricValue(
            function, _ints("i", data, offset + 12, _PARAMETER_COUNTS[function])
        )
    else:
        raise IccError("a lookup table holds a curve of unknown type")
    return curve, offset + _padded(len(_write_curve(curve)))


def _read_curves(data: bytes, offset: int, count: int) -> tuple[Curve, ...] | None:
    if offset == 0:
        return None
    curves = []
    for _ in range(count):
        curve, offset = _read_embedded_curve(data, offset)
        curves.append(curve)
    return tuple(curves)


def _read_clut(data: bytes, offset: int, inputs: int, outputs: int) -> Clut | None:
    if offset == 0:
        return None
    grid = tuple(_bytes(data, offset, 16)[:inputs])
    precision = _bytes(data, offset + 16, 1)[0]
    if precision not in (1, 2) or any(points < 2 for points in grid):
        raise IccError("a colour lookup table with an invalid grid or precision")
    return Clut(grid, precision, _bytes(data, offset + 20, math.prod(grid) * outputs * precision))


def _read_lut_ab(data: bytes) -> LutABValue:
    inputs, outputs = _channels(data[8]), _channels(data[9])
    b_at, matrix_at, m_at, clut_at, a_at = _ints("I", data, 12, 5)
    a_to_b = data[:4] == b"mAB "
    # lutAtoB: A curves per input, B and M curves per output; lutBtoA the other way round.
    a_count, b_count = (inputs, outputs) if a_to_b else (outputs, inputs)
    b_curves = _read_curves(data, b_at, b_count)
    if b_curves is None:
        raise IccError("a lookup table without its B curves")
    return LutABValue(
        data[:4],
        inputs,
        outputs,
        b_curves,
        _ints("i", data, matrix_at, 12) if matrix_at else None,
        _read_curves(data, m_at, b_count),
        _read_clut(data, clut_at, inputs, outputs),
        _read_curves(data, a_at, a_count),
    )


def _read_text(data: bytes) -> TextValue:
    return TextValue(data[_TYPE_HEADER:].split(b"\x00", 1)[0].decode("latin-1"))


def _read_description(data: bytes) -> DescriptionValue:
    (count,) = _ints("I", data, _TYPE_HEADER, 1)
    ascii_text = _bytes(data, 12, count).split(b"\x00", 1)[0]
    return DescriptionValue(ascii_text.decode("latin-1"))


def _read_localized(data: bytes) -> LocalizedValue:
    count, record_size = _ints("I", data, _TYPE_HEADER, 2)
    if record_size != 12:
        raise IccError("a localized text tag with records of an unknown size")
    records = []
    for index in range(count):
        at = 16 + 12 * index
        code = _bytes(data, at, 4).decode("latin-1")
        length, offset = _ints("I", data, at + 4, 2)
        try:
            text = _bytes(data, offset, length).decode("utf-16-be")
        except UnicodeDecodeError as error:
            raise IccError("a localized text that is not UTF-16") from error
        records.append((code, text))
    return LocalizedValue(tuple(records))


_READERS: dict[bytes, Callable[[bytes], TagValue]] = {
    b"XYZ ": _read_xyz,
    b"curv": _read_curve,
    b"para": _read_parametric,
    b"sf32": _read_s15,
    b"chrm": _read_chromaticity,
    b"mft1": _read_legacy_lut,
    b"mft2": _read_legacy_lut,
    b"mAB ": _read_lut_ab,
    b"mBA ": _read_lut_ab,
    b"text": _read_text,
    b"desc": _read_description,
    b"mluc": _read_localized,
}


def read_value(data: bytes) -> TagValue:
    """The typed value of one tag's bytes; :class:`IccError` for unknown or short tags."""
    reader = _READERS.get(data[:4])
    if reader is None or len(data) < _TYPE_HEADER + 4:
        raise IccError("a tag of a type redactor does not read")
    try:
        return reader(data)
    except (struct.error, IndexError) as error:
        raise IccError("a tag is shorter than its values") from error


# --- Writing ---------------------------------------------------------------------------------


def _padded(size: int) -> int:
    return size + (-size % 4)


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _pack(signature: bytes, code: str, values: tuple[int, ...]) -> bytes:
    return signature + b"\x00" * 4 + struct.pack(f">{len(values)}{code}", *values)


def _write_curve(curve: Curve) -> bytes:
    if isinstance(curve, CurveValue):
        return b"curv\x00\x00\x00\x00" + struct.pack(
            f">I{len(curve.entries)}H", len(curve.entries), *curve.entries
        )
    return b"para\x00\x00\x00\x00" + struct.pack(
        f">HH{len(curve.params)}i", curve.function, 0, *curve.params
    )


def _write_legacy_lut(value: LegacyLutValue) -> bytes:
    head = value.signature + b"\x00" * 4
    head += bytes([value.inputs, value.outputs, value.grid, 0]) + struct.pack(">9i", *value.matrix)
    if value.signature == b"mft2":
        head += struct.pack(">HH", value.input_entries, value.output_entries)
    return head + value.tables


def _write_lut_ab(value: LutABValue) -> bytes:
    elements: list[bytes | None] = [
        b"".join(_pad(_write_curve(c)) for c in value.b_curves),
        None if value.matrix is None else struct.pack(">12i", *value.matrix),
        None if value.m_curves is None else b"".join(_pad(_write_curve(c)) for c in value.m_curves),
        None if value.clut is None else _write_clut(value.clut),
        None if value.a_curves is None else b"".join(_pad(_write_curve(c)) for c in value.a_curves),
    ]
    offsets, body, position = [], b"", 32
    for element in elements:
        offsets.append(0 if element is None else position)
        if element is not None:
            body += _pad(element)
            position += _padded(len(element))
    head = value.signature + b"\x00" * 4 + bytes([value.inputs, value.outputs, 0, 0])
    return head + struct.pack(">5I", *offsets) + body


def _write_clut(clut: Clut) -> bytes:
    grid = bytes(clut.grid).ljust(16, b"\x00")
    return grid + bytes([clut.precision, 0, 0, 0]) + clut.data


def _write_description(value: DescriptionValue) -> bytes:
    ascii_text = value.text.encode("latin-1") + b"\x00"
    # Unicode language and count, ScriptCode code and count, then ScriptCode's 67 bytes.
    empty_alternatives = b"\x00" * (4 + 4 + 2 + 1 + 67)
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + empty_alternatives
    )


def _write_localized(value: LocalizedValue) -> bytes:
    head = b"mluc\x00\x00\x00\x00" + struct.pack(">II", len(value.records), 12)
    strings = [text.encode("utf-16-be") for _, text in value.records]
    offset = 16 + 12 * len(value.records)
    for (code, _), encoded in zip(value.records, strings, strict=True):
        head += code.encode("latin-1") + struct.pack(">II", len(encoded), offset)
        offset += len(encoded)
    return head + b"".join(strings)


def write_value(value: TagValue) -> bytes:
    """The canonical bytes of a tag value (without the padding that follows a tag)."""
    match value:
        case XYZValue(numbers):
            return _pack(b"XYZ ", "i", numbers)
        case CurveValue() | ParametricValue():
            return _write_curve(value)
        case S15Value(numbers):
            return _pack(b"sf32", "i", numbers)
        case ChromaticityValue(colorant, coordinates):
            head = b"chrm\x00\x00\x00\x00" + struct.pack(">HH", len(coordinates) // 2, colorant)
            return head + struct.pack(f">{len(coordinates)}I", *coordinates)
        case LegacyLutValue():
            return _write_legacy_lut(value)
        case LutABValue():
            return _write_lut_ab(value)
        case TextValue(text):
            return b"text\x00\x00\x00\x00" + text.encode("latin-1") + b"\x00"
        case DescriptionValue():
            return _write_description(value)
        case LocalizedValue():
            return _write_localized(value)
    raise TypeError(f"not an ICC tag value: {type(value).__name__}")

"""Machine-readable zones (ICAO 9303) in OCR output, tolerant of how OCR misreads them.

An MRZ is two or three lines of 30, 36 or 44 characters from ``A-Z0-9<``, printed in
OCR-B at the bottom of a passport page, an identity card's back or a visa. OCR reads
the filler ``<`` as ``«``, ``(``, ``c``, ``K`` or drops it, swaps ``0/O``, ``1/I``,
``5/S``, ``8/B``, splits a line into several boxes or merges it with a neighbour, and
misses a faint line altogether. So a line counts as MRZ when, after mapping filler
look-alikes, it is long enough, made almost only of MRZ characters, and either holds a
run of fillers or has the layout of a data line (document number, dates, sex); a line
stacked on such a line with the same width and character set counts too. Check digits
(weights 7-3-1) confirm a line when they validate; they are never required.

Zones are built from stacked MRZ lines; the format (TD1 3x30, TD2 2x36, TD3 2x44,
MRV-A 2x44, MRV-B 2x36) comes from the line count, length and first letter, and
lines a format needs but OCR missed are placed at the zone's line pitch, so the whole
zone is always redacted.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from redactor.geometry import Box, union_box
from redactor.text.lines import TextLine

#: Characters of each format's lines.
LINE_LENGTHS = {"TD1": 30, "TD2": 36, "TD3": 44, "MRV-A": 44, "MRV-B": 36}
LINE_COUNTS = {"TD1": 3, "TD2": 2, "TD3": 2, "MRV-A": 2, "MRV-B": 2}
#: A candidate needs at least this many characters (a TD1 line cut by a third)...
MIN_CHARS = 20
#: ...at most this many (a TD3 line merged with a few characters of a neighbour)...
MAX_CHARS = 52
#: ...and this share of MRZ characters after look-alikes are mapped.
MIN_CHARSET_SHARE = 0.9
#: A line stacked on an MRZ line joins it with this share (its fillers may be unread).
MIN_NEIGHBOUR_SHARE = 0.8
#: A data line holds two dates and check digits: at least this many digits as read.
MIN_DATA_DIGITS = 8
#: A neighbour read as more words than this needs a filler or digits to count.
MAX_NEIGHBOUR_WORDS = 3
#: Stacked MRZ lines: gap at most this many line heights, widths within this ratio.
MAX_LINE_GAP = 1.6
MIN_WIDTH_RATIO = 0.5
#: Lines of one MRZ are printed in one size; OCR boxes vary by this ratio at most.
MAX_HEIGHT_RATIO = 1.6
#: Line pitch of an MRZ in line heights, for lines OCR missed (OCR-B at 6 lines per inch).
PITCH = 1.45

_MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
#: Filler look-alikes: ``>`` and ``»`` are fillers read upside down, when the OCR's angle
#: classifier turns a line of an MRZ by 180 degrees (its characters then come reversed).
_FILLER_LOOKALIKES = str.maketrans(
    {"«": "<", "‹": "<", "＜": "<", "≤": "<", "(": "<", "{": "<", ">": "<", "»": "<"}
)
#: Runs of K (or c/k next to a filler) are fillers read as letters.
_K_RUN = re.compile(r"K{3,}|(?<=<)[Kkc]+|[Kkc]+(?=<)")
_FILLER_RUN = re.compile(r"<{2,}")
#: The data line of TD2, TD3 and visas: document number, check, nationality, birth date,
#: check, sex, expiry date, check. Letters stand in for digits where OCR swapped them.
_D = r"[0-9OQDIL|SBZG]"
_DATA_LINE = re.compile(rf"[A-Z0-9<]{{9}}{_D}[A-Z<]{{3}}{_D}{{7}}[MFX<]{_D}{{7}}")
#: The data line of TD1: birth date, check, sex, expiry date, check, nationality.
_TD1_DATA_LINE = re.compile(rf"{_D}{{7}}[MFX<]{_D}{{7}}[A-Z<]{{3}}")
_TO_DIGIT = str.maketrans("OQDIL|SBZG", "0001115826")
_WEIGHTS = (7, 3, 1)


@dataclass(frozen=True, slots=True)
class MrzLine:
    """One MRZ line as read: the index of its text line, the box of its MRZ words only."""

    line: int
    box: Box
    text: str

    @property
    def is_data(self) -> bool:
        """Laid out as a data line, with real digits in it (dates are digits)."""
        match = _DATA_LINE.search(self.text) or _TD1_DATA_LINE.search(self.text)
        return match is not None and sum(c.isdigit() for c in match.group()) >= MIN_DATA_DIGITS


@dataclass(frozen=True, slots=True)
class MrzZone:
    """The lines of one machine-readable zone, each as a full-width box (missed lines
    placed at the zone's pitch), and whether any check digit confirmed it."""

    format: str
    lines: tuple[MrzLine, ...]
    line_boxes: tuple[Box, ...]
    checked: bool

    @property
    def box(self) -> Box:
        return union_box(self.line_boxes)


def normalised(text: str) -> str:
    """``text`` without spaces and with filler look-alikes mapped to ``<``. Other small
    letters stay: an MRZ has none, so a word with them ("Jest") is not MRZ."""
    compact = "".join(text.split()).translate(_FILLER_LOOKALIKES)
    return _K_RUN.sub(lambda m: "<" * len(m.group()), compact)


def _share(text: str) -> float:
    return sum(c in _MRZ_CHARS for c in text) / len(text) if text else 0.0


def check_digit(field: str) -> int:
    """ICAO 9303 check digit: digits count as themselves, A-Z as 10-35, ``<`` as 0."""
    total = 0
    for i, char in enumerate(field):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            value = 0
        total += value * _WEIGHTS[i % 3]
    return total % 10


def _valid(field: str, check: str) -> bool:
    digit = check.translate(_TO_DIGIT)
    return digit.isdigit() and check_digit(field) == int(digit)


def _numeric(field: str) -> str:
    return field.translate(_TO_DIGIT)


def checked_fields(text: str) -> int:
    """How many check digits of a data line validate (0 when it is not one)."""
    match = _DATA_LINE.search(text)
    if match is not None:
        s = text[match.start() :]
        fields = [(s[0:9], s[9]), (_numeric(s[13:19]), s[19]), (_numeric(s[21:27]), s[27])]
        return sum(_valid(f, c) for f, c in fields)
    match = _TD1_DATA_LINE.search(text)
    if match is not None:
        s = text[match.start() :]
        fields = [(_numeric(s[0:6]), s[6]), (_numeric(s[8:14]), s[14])]
        return sum(_valid(f, c) for f, c in fields)
    return 0


def _mrz_words(line: TextLine, min_share: float) -> tuple[int, int, str] | None:
    """The longest run of the line's words that reads as MRZ: (first, end, text)."""
    best: tuple[int, int, str] | None = None
    start = 0
    words = [normalised(w.text) for w in line.words]
    while start < len(words):
        end = start
        while end < len(words) and words[end] and _share(words[end]) >= min_share:
            end += 1
        text = "".join(words[start:end])
        if end > start and (best is None or len(text) > len(best[2])):
            best = (start, end, text)
        start = end + 1
    return best


def _candidate(index: int, line: TextLine, min_share: float) -> MrzLine | None:
    found = _mrz_words(line, min_share)
    if found is None:
        return None
    first, end, text = found
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        return None
    box = union_box([w.box for w in line.words[first:end]])
    return MrzLine(index, box, text)


def _is_anchor(candidate: MrzLine) -> bool:
    return bool(_FILLER_RUN.search(candidate.text)) or candidate.is_data


def _could_be_unfilled(line: TextLine, candidate: MrzLine) -> bool:
    """A neighbour without fillers read: a few boxes at most, or some ``<`` or digits
    (a line of capitals in many words is small print, "IF FOUND, PLEASE RETURN")."""
    digits = sum(c.isdigit() for c in candidate.text)
    return len(line.words) <= MAX_NEIGHBOUR_WORDS or "<" in candidate.text or digits >= 6


def _stacked(a: Box, b: Box) -> bool:
    """Whether two line boxes are neighbouring lines of one MRZ."""
    height = max(a.height, b.height)
    gap = max(a.y0, b.y0) - min(a.y1, b.y1)
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    ratio = min(a.width, b.width) / max(a.width, b.width, 1e-6)
    return (
        gap <= MAX_LINE_GAP * height
        and overlap > 0.5 * min(a.width, b.width)
        and (ratio >= MIN_WIDTH_RATIO)
    )


def find_lines(lines: Sequence[TextLine]) -> list[MrzLine]:
    """The MRZ lines among ``lines``: anchors, then their stacked neighbours."""
    found = {}
    for i, line in enumerate(lines):
        candidate = _candidate(i, line, MIN_CHARSET_SHARE)
        if candidate is not None and _is_anchor(candidate):
            found[i] = candidate
    grown = True
    while grown:
        grown = False
        for i, line in enumerate(lines):
            if i in found:
                continue
            candidate = _candidate(i, line, MIN_NEIGHBOUR_SHARE)
            if candidate is None or not _could_be_unfilled(line, candidate):
                continue
            if any(_stacked(candidate.box, m.box) for m in found.values()):
                found[i] = candidate
                grown = True
    return sorted(found.values(), key=lambda m: m.box.y0)


def find_zones(lines: Sequence[TextLine]) -> list[MrzZone]:
    """Every machine-readable zone in ``lines``."""
    groups: list[list[MrzLine]] = []
    for mrz in find_lines(lines):
        for group in groups:
            if _stacked(group[-1].box, mrz.box):
                group.append(mrz)
                break
        else:
            groups.append([mrz])
    return [_zone(group) for group in groups]


def _format(group: Sequence[MrzLine]) -> str:
    longest = max(len(m.text) for m in group)
    if len(group) >= 3 or (longest <= 33 and not _DATA_LINE.search(group[-1].text)):
        return "TD1"
    visa = group[0].text.startswith("V")
    if longest <= 40:
        return "MRV-B" if visa else "TD2"
    return "MRV-A" if visa else "TD3"


def _zone(group: Sequence[MrzLine]) -> MrzZone:
    fmt = _format(group)
    x0 = min(m.box.x0 for m in group)
    x1 = max(m.box.x1 for m in group)
    height = statistics.median(m.box.height for m in group)
    pitch = (
        (group[-1].box.center[1] - group[0].box.center[1]) / (len(group) - 1)
        if len(group) > 1
        else PITCH * height
    )
    above, below = _missing(group, fmt)
    rows = [group[0].box.center[1] - pitch * k for k in range(above, 0, -1)]
    rows += [m.box.center[1] for m in group]
    rows += [group[-1].box.center[1] + pitch * k for k in range(1, below + 1)]
    half = height / 2
    boxes = tuple(Box(x0, y - half, x1, y + half) for y in sorted(rows))
    checked = any(checked_fields(m.text) >= 2 for m in group)
    return MrzZone(fmt, tuple(group), boxes, checked)


def _missing(group: Sequence[MrzLine], fmt: str) -> tuple[int, int]:
    """How many lines OCR missed above and below the lines found.

    The data line is the second line of every format (the last of two-line ones), so
    where it sits tells which lines are missing; without it, the missing lines are
    placed on both sides (one line too many is redacted rather than one too few).
    """
    missing = LINE_COUNTS[fmt] - len(group)
    if missing <= 0:
        return 0, 0
    data = [i for i, m in enumerate(group) if m.is_data]
    if not data:
        return missing, missing
    above = max(0, 1 - data[0])
    return above, max(0, missing - above)

"""Document mode: inside an identity document, redact everything but what says what it is.

Runs after every detector, on the image, all their findings and the text lines (see
:class:`redactor.findings.Reviewer`). It finds machine-readable zones and documents
(:mod:`redactor.documents.extent`); where the first reading saw a document's text small,
it reads the extent again, enlarged (:mod:`redactor.documents.reread`, with the reader
it was given). Inside each document's extent it fails closed:

* every MRZ line is redacted whole (``pii.mrz``), lines OCR missed included;
* every text line is redacted (``pii.document_field``) except field labels, document
  titles, state names, specimen watermarks and the other languages of a label
  stacked beside a tall value (:mod:`redactor.documents.stacks`); a line that is the
  value of a label is redacted even when it reads "SPECIMEN" (specimens print it in
  the name fields), so a specimen word is kept only when it is a watermark, i.e.
  larger than the field text or printed vertically;
* every face becomes its whole photo area (head and shoulders), and a smaller copy of
  the portrait elsewhere on the document (the "ghost" portrait) is found by matching
  the portrait against the document at smaller scales;
* ink next to a signature label (the signature itself) and every barcode or 2-D code
  inside the extent, decoded or not, is redacted; so is every compact dark or densely
  detailed patch no text line or photo explains (fingerprints, codes too small to
  decode), and the words OCR chained into an MRZ line that are not part of it;
* word-sized ink that OCR did not read is redacted (:mod:`redactor.documents.unread`):
  nothing says it is a label.

A finding of kind ``document`` with the extent goes into the report (it is not itself
redacted), so a reviewer can see why a whole card was filled.

Inside a document, document mode also has the last word on the other detectors'
findings, whose margins know nothing of the labels printed right beside a value or a
photo and eat the labels document mode keeps. A text finding keeps its box (its words
stay redacted) but its margins are cut where they reach a kept label, as document
mode's own are; a face gives way to its photo area when that holds the face box (the
area is the photo and more, cut only where it reaches a kept label).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from redactor.documents import mrz
from redactor.documents.extent import Document, find_documents
from redactor.documents.fields import Field, LineLabels, analyse, pair, wrapped_titles
from redactor.documents.lexicon import SPECIMEN, STATE, TITLE, Lexicon, default_lexicon
from redactor.documents.margins import (
    Grey,
    beside_kept,
    clipped_region,
    finding_box,
    margin_of,
    split_from_kept,
    trimmed_to_ink,
)
from redactor.documents.marks import (
    codes_in,
    dense_patches,
    face_core,
    ghost_portraits,
    photo_area,
    signature_ink,
)
from redactor.documents.reread import MAX_DOCUMENTS, ExtentReader, merged
from redactor.documents.stacks import stack_words
from redactor.documents.unread import unread_words
from redactor.errors import ConfigError
from redactor.findings import DOCUMENT, FACE, TEXT, Finding, RGBImage, kind_family
from redactor.geometry import Box, centre_within, intersection, union_box, within
from redactor.pii.base import DOCUMENT_FIELD, MRZ
from redactor.pii.hashing import text_hash
from redactor.pii.policy import Policy
from redactor.text.context import runs
from redactor.text.lines import TextLine

logger = logging.getLogger(__name__)

#: Unknown label-like lines: this share of small letters, and at most this share of
#: the document's median line height (or ending in "/").
LABEL_LOWER_SHARE = 0.5
LABEL_HEIGHT = 0.85
#: A line shaped like a multilingual label (ending in "/") is one only up to this many
#: times the document's median line height: labels are set no larger than the values,
#: and a signature OCR reads as a word ("Luomz/") is two or three lines tall.
LABEL_SHAPED_HEIGHT = 1.5
#: Margin above and below a redacted line, as a share of its height (the redactor's is
#: 0.2): OCR's line boxes already hold the glyphs with a pixel or two to spare.
VERTICAL_MARGIN = 0.1
VERTICAL_MARGIN_MIN_PX = 1.0
#: Margin around a portrait's photo area (it is already the photo's extent).
PHOTO_MARGIN = 2.0
#: The document's header: the top share of its extent, or text this many times the
#: document's median line height. State names elsewhere are values.
HEADER_BAND = 0.3
HEADER_HEIGHT = 1.3
#: A small-type line goes on with the prose right above it (:func:`_prose_rows`) when
#: they overlap by at most this share of its height or are at most this share of the
#: text height apart, and start within this share of the text height of each other.
PROSE_OVERLAP = 0.3
PROSE_GAP = 0.5
PROSE_INDENT = 0.5
#: A specimen word this many times the document's median line height is a watermark.
WATERMARK_HEIGHT = 1.5
#: Another rule's text finding with this share of its box on one kept line, and on no
#: redacted one, is dropped inside a document: document mode read a label there.
ON_KEPT = 0.8
#: An OCR line's box is line-shaped when its short side is at most this many text heights.
LINE_SIDE = 3.0


class DocumentReviewer:
    """The document-mode pass (:class:`redactor.findings.Reviewer`)."""

    name = "documents"
    model = "documents@1"

    def __init__(
        self,
        policy: Policy,
        hash_key: bytes | None = None,
        *,
        lexicon: Lexicon | None = None,
        reader: ExtentReader | None = None,
    ) -> None:
        """``reader`` reads each document's extent again, larger
        (:mod:`redactor.documents.reread`); without one the first reading stands."""
        if hash_key is not None and not hash_key:
            raise ConfigError("the text-hash key is empty; pass None or a long random secret")
        self._policy = policy
        self._hash_key = hash_key
        self._lexicon = lexicon or default_lexicon()
        self._reader = reader

    def review(
        self, image: RGBImage, findings: Sequence[Finding], lines: Sequence[TextLine]
    ) -> list[Finding]:
        labels = wrapped_titles(
            lines, [analyse(line, self._lexicon) for line in lines], self._lexicon
        )
        zones = mrz.find_zones(lines)
        documents = find_documents(image, lines, labels, zones) if lines else []
        if not documents:
            return list(findings)
        grey: Grey = np.asarray(
            cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY), np.uint8
        )
        first = _Reading(
            lines,
            labels,
            pair(lines, labels),
            {m.line: m.box for zone in zones for m in zone.lines},
        )
        largest = sorted(documents, key=lambda d: -d.box.area)[:MAX_DOCUMENTS]
        found: list[Finding] = []
        for document in documents:
            found.append(self._finding(DOCUMENT, document.box, 1.0, document.evidence))
            reading = self._reread(image, grey, document, first) if document in largest else None
            found += self._inside(image, grey, document, findings, reading or first)
        logger.info("documents: %d found, %d regions to redact", len(documents), len(found))
        photos = [
            f.box.padded(margin_of(f.box) + 1.0)
            for f in found
            if f.attributes.get("field") == "portrait"
        ]
        untouched = [f for f in findings if not self._replaced(f, documents, photos, image)]
        return untouched + found

    def _reread(
        self, image: RGBImage, grey: Grey, document: Document, first: _Reading
    ) -> _Reading | None:
        """The lines of ``first`` with the document's inside read again, larger, where
        the re-read reproduced them (:func:`redactor.documents.reread.merged`); ``None``
        without a reader or when the re-read would not read the text larger."""
        if self._reader is None:
            return None
        extent = document.box
        again = self._reader.read(image, extent, _median_height(first.lines, extent))
        if again is None:
            return None
        staying, joining = merged(grey, first.lines, again, extent, set(first.mrz_lines))
        lines = [first.lines[i] for i in staying] + joining
        labels = [first.labels[i] for i in staying] + [analyse(j, self._lexicon) for j in joining]
        labels = wrapped_titles(lines, labels, self._lexicon)
        mrz_lines = {k: first.mrz_lines[i] for k, i in enumerate(staying) if i in first.mrz_lines}
        logger.info(
            "documents: re-read %d lines, %d of the first reading's %d gave way",
            len(joining),
            len(first.lines) - len(staying),
            len(first.lines),
        )
        # The document's text size from the re-read alone: the two readings' boxes fit
        # their glyphs differently, and a value among re-read lines must not look small
        # (label-like) beside the first reading's taller boxes.
        height = _median_height(joining, extent) or None
        return _Reading(lines, labels, pair(lines, labels), mrz_lines, height)

    def _inside(
        self,
        image: RGBImage,
        grey: Grey,
        document: Document,
        findings: Sequence[Finding],
        reading: _Reading,
    ) -> list[Finding]:
        extent = document.box
        lines, labels, fields, mrz_lines = (
            reading.lines,
            reading.labels,
            reading.fields,
            reading.mrz_lines,
        )
        inside = [i for i, line in enumerate(lines) if centre_within(extent, line.box)]
        out: list[Finding] = []
        if document.zone is not None:
            out += self._mrz(document.zone)
        median = reading.text_height or _median_height(lines, extent)
        value_of = {(f.line, k): f.kind for f in fields for k in range(f.first, f.end)}
        stacks = stack_words(grey, lines, labels)
        kept: list[Box] = []
        prose = _prose_rows(lines, labels, inside, median)
        for i in inside:
            if i not in mrz_lines:
                info = labels[i]
                if _state_value(lines[i], info, extent, median) or _title_value(
                    lines[i], info, extent, median
                ):
                    info = replace(info, matches=(), label_words=frozenset())
                if i in prose:  # the second row of a value in words: it holds one
                    info = replace(info, holds_value=True)
                stack = {k for j, k in stacks if j == i}
                redacted, kept_here = self._line(lines[i], i, info, median, value_of, grey, stack)
                out += redacted
                kept += kept_here
            else:
                out += self._beside_mrz(lines[i], mrz_lines[i])
        face_findings = [f for f in findings if f.kind == FACE and centre_within(extent, f.box)]
        faces = [f.box for f in face_findings]
        areas: list[tuple[Finding, Box]] = []
        for face in face_findings:
            area = photo_area(face.box, extent)
            core = intersection_box(_face_core(face, image), area) or area
            areas.append((self._finding(DOCUMENT_FIELD, area, 1.0, "portrait"), core))
        for ghost in ghost_portraits(image, faces, extent):
            areas.append((self._finding(DOCUMENT_FIELD, ghost, 0.5, "ghost_portrait"), ghost))
        read = [lines[i].box for i in inside] + [photo_area(face, extent) for face in faces]
        for i in inside:
            if "signature" in labels[i].field_kinds:
                for ink in signature_ink(image, lines[i].box, extent, read):
                    out.append(self._finding(DOCUMENT_FIELD, ink, 0.5, "signature"))
        for box in codes_in(image, extent):
            out.append(self._finding(DOCUMENT_FIELD, box, 0.5, "code"))
        known = [line.box for line in lines if _line_shaped(line.box, median)]
        known += [f.box for f, _ in areas]
        for box in dense_patches(image, extent, known):
            out.append(self._finding(DOCUMENT_FIELD, box, 0.5, "mark"))
        explained = known + [f.box for f in out if f.kind == MRZ]
        for box in unread_words(grey, extent, explained, median, kept=kept):
            out.append(self._finding(DOCUMENT_FIELD, box, 0.3, "unread"))
        # photo areas are the region itself (no text margin); the rest keep their
        # margin where it does not reach a kept label
        # a photo area is an estimate around its face: a kept label cuts into it, never
        # into the face (or the ghost image) itself
        clipped = [
            replace(
                f, box=finding_box(clipped_region(core, kept, region=f.box.padded(PHOTO_MARGIN)))
            )
            for f, core in areas
        ]
        lines_out = [
            replace(f, box=split_from_kept(grey, f.box, kept)) if _is_line(f) else f for f in out
        ]
        # another rule's line box loses a kept label it begins or ends with ("NAME
        # CRITTENDEN, LUCY": the name rule boxes the line, document mode keeps "NAME")
        # and one that covers a kept line alone is dropped: the labels overrule it
        filled = [f.box for f in lines_out]
        narrowed = [
            _clear_of(replace(f, box=split_from_kept(grey, beside_kept(f.box, kept), kept)), kept)
            for f in findings
            if self._narrowed(f, extent) and not _on_kept_alone(f.box, kept, filled)
        ]
        return (
            [_clear_of(f, kept) if f.kind == DOCUMENT_FIELD else f for f in lines_out]
            + clipped
            + narrowed
        )

    def _narrowed(self, finding: Finding, extent: Box) -> bool:
        """Whether document mode replaces ``finding`` inside ``extent`` with a copy whose
        margins stop at kept labels: another detector's text finding."""
        return (
            finding.detector != self.name
            and kind_family(finding.kind) == TEXT
            and centre_within(extent, finding.box)
        )

    def _replaced(
        self,
        finding: Finding,
        documents: Sequence[Document],
        photos: Sequence[Box],
        image: RGBImage,
    ) -> bool:
        """Whether document mode's findings take the place of ``finding``: a text finding
        inside a document (narrowed), or a face whose face core a photo area's region
        holds (:func:`redactor.documents.marks.face_core`)."""
        if finding.kind == FACE:
            core = _face_core(finding, image)
            return any(within(photo, core) for photo in photos)
        return any(self._narrowed(finding, d.box) for d in documents)

    def _mrz(self, zone: mrz.MrzZone) -> list[Finding]:
        rule = "mrz-checked" if zone.checked else "mrz-shape"
        read = {round(m.box.center[1]): m for m in zone.lines}
        out = []
        for box in zone.line_boxes:
            line = next((m for y, m in read.items() if box.y0 <= y <= box.y1), None)
            digest = self._hash(line.text) if line is not None else None
            out.append(
                Finding(
                    kind=MRZ,
                    box=box,
                    score=1.0 if line is not None else 0.5,
                    detector=self.name,
                    model=self.model,
                    text_hash=digest,
                    attributes={"rule": rule, "format": zone.format},
                )
            )
        return out

    def _beside_mrz(self, line: TextLine, zone_part: Box) -> list[Finding]:
        """Words OCR chained into an MRZ line that are not part of it: the MRZ finding
        covers only its own words, and these (a signature beside the zone, the end of a
        line on a card's other side) are text inside a document like any other."""
        outside = [intersection(w.box, zone_part) == 0 for w in line.words]
        return [
            self._finding(
                DOCUMENT_FIELD, union_box([w.box for w in line.words[a:b]]), 0.5, "unlabelled"
            )
            for a, b in runs(outside)
        ]

    def _line(
        self,
        line: TextLine,
        index: int,
        info: LineLabels,
        median: float,
        value_of: dict[tuple[int, int], str],
        grey: Grey,
        stack: set[int],
    ) -> tuple[list[Finding], list[Box]]:
        """The words of one line inside a document that are not kept, in runs, and the
        boxes of the runs that are. ``stack`` words are a label's other languages
        (:mod:`redactor.documents.stacks`): kept even where pairing took them for the
        value of the label above."""
        values = {k for k in range(len(line.words)) if (index, k) in value_of} - stack
        if not values and (
            (info.only_kept and _kept_whole(line, info, median)) or _label_like(line, info, median)
        ):
            return [], [line.box]
        keep = {k for k in info.label_words if k not in values and not _specimen(line, info, k)}
        keep |= stack
        allowed = self._policy.kept_words(line.text, list(line.spans))
        redact = [k not in keep and not allowed[k] for k in range(len(line.words))]
        out = []
        for start, end in runs(redact):
            words = line.words[start:end]
            field = next((value_of[(index, k)] for k in range(start, end) if k in values), "")
            text = line.text[line.spans[start][0] : line.spans[end - 1][1]]
            out.append(
                Finding(
                    kind=DOCUMENT_FIELD,
                    box=trimmed_to_ink(grey, _value_part(line, info, start, end)),
                    score=min(w.confidence for w in words),
                    detector=self.name,
                    model=self.model,
                    text_hash=self._hash(text),
                    attributes={"rule": "document", "field": field or "unlabelled"},
                )
            )
        kept = [
            union_box([w.box for w in line.words[start:end]])
            for start, end in runs([not r for r in redact])
        ]
        return out, kept

    def _finding(self, kind: str, box: Box, score: float, what: str) -> Finding:
        attributes = {"evidence": what} if kind == DOCUMENT else {"rule": "document", "field": what}
        return Finding(kind, box, score, self.name, self.model, None, attributes)

    def _hash(self, text: str) -> str | None:
        return None if self._hash_key is None else text_hash(self._hash_key, text)


@dataclass(frozen=True, slots=True)
class _Reading:
    """The text lines document mode works on, what each says of itself, the fields they
    pair into, which of them are MRZ lines (index to the MRZ line's box) and, after a
    re-read, the document's text size."""

    lines: Sequence[TextLine]
    labels: Sequence[LineLabels]
    fields: Sequence[Field]
    mrz_lines: dict[int, Box]
    #: The document's text size, when not the median height of its lines.
    text_height: float | None = None


def _median_height(lines: Sequence[TextLine], extent: Box) -> float:
    """The median height of the lines centred in ``extent``: the document's text size."""
    heights = [line.height for line in lines if centre_within(extent, line.box)]
    return statistics.median(heights) if heights else 0.0


def _clear_of(
    finding: Finding,
    kept: Sequence[Box],
    margin: float | None = None,
    vertical: float | None = None,
) -> Finding:
    """``finding`` with the box whose redacted region stays clear of the kept boxes: the
    usual margin left and right, a thinner one above and below (labels OCR did not read
    sit right above and below values, and are not among the kept boxes)."""
    if vertical is None:
        vertical = max(VERTICAL_MARGIN_MIN_PX, VERTICAL_MARGIN * finding.box.height)
    region = clipped_region(finding.box, kept, margin, vertical)
    return replace(finding, box=finding_box(region))


def _on_kept_alone(box: Box, kept: Sequence[Box], filled: Sequence[Box]) -> bool:
    """Whether another rule's finding ``box`` lies on a kept box (a label, a title) and
    not on what document mode redacts: at least :data:`ON_KEPT` of it inside one kept
    box, and less than the rest on the lines document mode fills (OCR boxes of lines set
    tightly overlap by a row or two)."""
    if not any(intersection(box, k) >= ON_KEPT * box.area for k in kept):
        return False
    return sum(intersection(box, f) for f in filled) < (1 - ON_KEPT) * box.area


def _face_core(face: Finding, image: RGBImage) -> Box:
    """The face inside a face finding's head box; a kept label may cut into the rest."""
    families = [f for f in str(face.attributes.get("families", "")).split(",") if f]
    frame = Box(0.0, 0.0, float(image.shape[1]), float(image.shape[0]))
    return face_core(face.box, families, frame)


def _line_shaped(box: Box, median: float) -> bool:
    """Whether an OCR line's box is shaped like a line of text: its short side no more
    than :data:`LINE_SIDE` text heights. A box tall and wide at once (a watermark read
    on a slant, a vertical number merged with it) holds more than the text OCR read in
    it, and explains none of the other ink inside it."""
    return min(box.width, box.height) <= LINE_SIDE * median


def _is_line(finding: Finding) -> bool:
    return finding.kind == DOCUMENT_FIELD and finding.attributes.get("field") not in (
        "signature",
        "code",
        "mark",
    )


def _value_part(line: TextLine, info: LineLabels, start: int, end: int) -> Box:
    """The box of words ``start..end``, without the label that the first word begins
    with when OCR read a label and its value as one word ("Nationality:GBR"): the cut
    is placed by character share, a character early (fail closed)."""
    box = union_box([w.box for w in line.words[start:end]])
    tail = info.tail_of(start)
    if tail is None:
        return box
    first, last = line.spans[start]
    word = line.words[start].box
    share = max(0.0, (tail - first - 1) / max(1, last - first))
    return Box(max(box.x0, word.x0 + share * word.width), box.y0, box.x1, box.y1)


def intersection_box(a: Box, b: Box) -> Box | None:
    x0, y0, x1, y1 = max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1)
    return Box(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _specimen(line: TextLine, info: LineLabels, k: int) -> bool:
    start, end = line.spans[k]
    return any(m.kind == SPECIMEN and m.start < end and start < m.end for m in info.matches)


def _label_like(line: TextLine, info: LineLabels, median: float) -> bool:
    """A line in a language the lexicon lacks that looks like a label: no digits, mostly
    small letters, and holding a "/" (multilingual labels; no taller than
    :data:`LABEL_SHAPED_HEIGHT` lines) or set smaller than the document's text
    ("Pilsonība/", "Personvārda vēsturiskā forma/")."""
    text = line.text
    letters = [c for c in text if c.isalpha()]
    if not letters or any(c.isdigit() for c in text) or info.holds_value:
        return False
    lower = sum(c.islower() for c in letters)
    small = lower >= LABEL_LOWER_SHARE * len(letters)
    shaped = info.label_shaped and line.height <= LABEL_SHAPED_HEIGHT * median
    return shaped or (small and line.height <= LABEL_HEIGHT * median)


def _kept_whole(line: TextLine, info: LineLabels, median: float) -> bool:
    """A line of kept words stays, unless it is only specimen words printed like a field."""
    if any(m.kind != SPECIMEN for m in info.matches):
        return True
    box = line.box
    return box.height >= WATERMARK_HEIGHT * median or box.height >= 1.5 * box.width


def _state_value(line: TextLine, info: LineLabels, extent: Box, median: float) -> bool:
    """A line whose only kept words name a state, printed where values are
    (:func:`_among_values`: "LIECHTENSTEIN" under an unread "Nationality"). The state
    that issued a document heads it; a state lower down is the holder's nationality or a
    visa's territory. A state beside a word that is always a value ("ETATS SCHENGEN",
    see ``labels/values.tsv``) is no label anywhere: :func:`~redactor.documents.fields.analyse`
    drops it."""
    kinds = {m.kind for m in info.matches} - {SPECIMEN}
    return kinds == {STATE} and _among_values(line, extent, median)


def _title_value(line: TextLine, info: LineLabels, extent: Box, median: float) -> bool:
    """A line whose only kept words are a document title and that goes on with a word
    set like a value (capitals or digits), printed where values are: below the header
    band and no larger than the text. A permit's type field reads like a title ("CARTE
    SEJOUR TEMPORAIRE", "RESIDENCE PERMIT TEMPORARY"): kept, its title words would
    leave the value readable. A title in the header ("TITRE DE SEJOUR" beside the
    document number) keeps its words."""
    kinds = {m.kind for m in info.matches} - {SPECIMEN}
    if kinds != {TITLE} or not any(_value_set(line.words[k].text) for k in info.value_words):
        return False
    return _among_values(line, extent, median)


def _among_values(line: TextLine, extent: Box, median: float) -> bool:
    """Whether ``line`` is printed where values are: below the document's header band
    and no larger than its text."""
    header = line.box.center[1] <= extent.y0 + HEADER_BAND * extent.height
    return not header and line.height < HEADER_HEIGHT * median


def _value_set(word: str) -> bool:
    """A word set like a value: letters or digits, and no small letter."""
    return any(c.isalnum() for c in word) and not any(c.islower() for c in word)


def _prose_rows(
    lines: Sequence[TextLine], labels: Sequence[LineLabels], inside: Sequence[int], median: float
) -> set[int]:
    """Lines that look like a small-type label (:func:`_label_like`) but go on with a
    line of prose right above them, at its left edge: the second row of a value written
    in words ("voor arbeid is TWV niet vereist" over "niet toepasselijk"). A label set in
    small letters under a value sits under a value in capitals, not under prose; the
    prose above is itself redacted (it is set as tall as the values)."""
    found = set()
    for i in inside:
        line = lines[i]
        if labels[i].matches or labels[i].label_shaped or not _label_like(line, labels[i], median):
            continue
        for j in inside:
            above = lines[j]
            gap = line.box.y0 - above.box.y1
            if (
                j != i
                and not labels[j].matches
                and -PROSE_OVERLAP * line.height <= gap <= PROSE_GAP * median
                and abs(line.box.x0 - above.box.x0) <= PROSE_INDENT * median
                and _prose(above)
                and not _label_like(above, labels[j], median)
            ):
                found.add(i)
                break
    return found


def _prose(line: TextLine) -> bool:
    """Words in small letters: at least two words, most letters small, no digit."""
    letters = [c for c in line.text if c.isalpha()]
    return (
        len(line.words) >= 2
        and bool(letters)
        and not any(c.isdigit() for c in line.text)
        and sum(c.islower() for c in letters) >= LABEL_LOWER_SHARE * len(letters)
    )

"""What detectors report: kinds of finding and the finding record itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from redactor.geometry import Box

if TYPE_CHECKING:
    from redactor.image_context import ImageContext
    from redactor.text.lines import TextLine

#: An image as detectors see it: H x W x 3, uint8, RGB, upright.
RGBImage = npt.NDArray[np.uint8]

FACE = "face"
#: Personal text kinds are ``"pii.<kind>"`` (``pii.email``, ``pii.phone``...);
#: ``"text"`` is any text redacted under the ``all`` policy; codes are ``"code.<kind>"``.
PII_PREFIX = "pii."
CODE_PREFIX = "code."
TEXT = "text"
#: The extent of an identity document: reported (why a whole card was filled), not redacted.
DOCUMENT = "document"


def kind_family(kind: str) -> str:
    """``face``, ``text`` or ``code``: the family a style is chosen for by default."""
    if kind == FACE:
        return FACE
    if kind.startswith(CODE_PREFIX):
        return "code"
    return TEXT


@dataclass(frozen=True, slots=True)
class Finding:
    """One region that must be redacted, in the coordinates of the upright image."""

    kind: str
    box: Box
    score: float
    detector: str
    model: str
    #: A keyed hash of matched text (never the text), when a detector has one.
    text_hash: str | None = None
    #: Extra non-personal facts, e.g. ``{"shape": "ellipse"}`` or ``{"rule": "luhn"}``.
    attributes: dict[str, str] = field(default_factory=dict)


class Detector(Protocol):
    """Finds regions to redact in one upright RGB image.

    Implementations load their models once (in ``__init__``) and raise
    :class:`redactor.errors.DetectionError` when they cannot give a trustworthy answer.
    ``context`` is the work on this image the pipeline shares between detectors (its
    detail map, shrunk copies; :mod:`redactor.image_context`); without it a detector
    does that work itself.
    """

    name: str

    def detect(self, image: RGBImage, context: ImageContext | None = None) -> Sequence[Finding]: ...


class Reviewer(Protocol):
    """A pass after every detector, over one image, their findings and the text lines read
    (empty without OCR); returns the findings to redact: the ones given, some of them
    replaced where the reviewer knows the image better, and its own. Document mode is
    one: it needs the face findings and the lines together to see a card, and inside a
    card it narrows the text detector's margins to spare the labels.
    """

    name: str

    def review(
        self, image: RGBImage, findings: Sequence[Finding], lines: Sequence[TextLine]
    ) -> Sequence[Finding]: ...


@dataclass(frozen=True, slots=True)
class TextReading:
    """What a reading detector saw in one image: its findings and the lines it read."""

    findings: Sequence[Finding]
    lines: Sequence[TextLine]


@runtime_checkable
class LineReader(Protocol):
    """A detector that also hands over the lines it read (the text detector)."""

    name: str

    def read(self, image: RGBImage, context: ImageContext | None = None) -> TextReading: ...

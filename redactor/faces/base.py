"""The face-detector plugin boundary: what a detector family gives, and the head around it.

A *family* is one kind of face model run over the image in its own way (MediaPipe's
BlazeFace on a tile pyramid, CenterFace on a coarse frame and fine tiles). Each returns
:class:`FaceCandidate` records: the model's face box, its score, and the whole head
estimated from that box. :class:`redactor.faces.detector.FaceDetector` runs the families
the options name and merges their heads into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from redactor.detail import DetailMap
from redactor.findings import RGBImage
from redactor.geometry import Box
from redactor.image_context import ImageContext


@dataclass(frozen=True, slots=True)
class HeadShape:
    """Where the head lies around one family's face box, in units of that box.

    Face models box the face differently (BlazeFace: brows to mouth; CenterFace: forehead
    to chin), but none boxes the hair, the ears or the back of a head in profile, and all
    of those identify a person.
    """

    #: Head width over face-box width.
    width: float
    #: Head top above the face-box top, in face-box heights (forehead, hairline, hair).
    above: float
    #: Head bottom below the face-box bottom, in face-box heights (chin).
    below: float
    #: A head is never narrower than this share of its height, whatever the face box
    #: says: a face in profile has a narrow box, but its head reaches back to the ear.
    min_aspect: float = 0.75


def head_box(face: Box, shape: HeadShape) -> Box:
    """The head around ``face`` (not clipped: the caller clips at the frame)."""
    top = face.y0 - shape.above * face.height
    bottom = face.y1 + shape.below * face.height
    width = max(face.width * shape.width, (bottom - top) * shape.min_aspect)
    cx = (face.x0 + face.x1) / 2
    return Box(cx - width / 2, top, cx + width / 2, bottom)


@dataclass(frozen=True, slots=True)
class FaceCandidate:
    """One face a family found, in image pixels."""

    face: Box
    score: float
    head: Box
    family: str
    #: ``False`` for a detection its own family could not confirm (MediaPipe's edge
    #: passes): another family, if one runs, must (see ``FaceConfirmer``).
    sure: bool = True


@dataclass(frozen=True, slots=True)
class FaceSettings:
    """What a family factory needs from the options (see :mod:`redactor.faces.registry`)."""

    #: MediaPipe's minimum score (``PipelineOptions.face_threshold``).
    threshold: float = 0.35
    #: Smallest face width, in pixels, the families are built to find.
    min_face_px: float = 20
    #: Every family the detector runs, so that one can leave to another what it does better.
    families: tuple[str, ...] = ()
    #: Native threads per model session (``None``: the library's default).
    threads: int | None = None


class FaceGuide(Protocol):
    """Where a face may be, from one family's cheap whole-frame pass, for the others to
    spend their fine passes only there (see :class:`FaceSurveyor`)."""

    #: Where the image has any detail at all (computed once, shared by the families).
    detail: DetailMap

    def likely(self, area: Box, smallest: float, largest: float) -> bool:
        """Whether a face from ``smallest`` to ``largest`` px wide, however faint, may be
        centred in ``area`` (image pixels)."""
        ...


@runtime_checkable
class FaceSurveyor(Protocol):
    """A family whose whole-frame pass guides the others: the detector runs it first and
    hands its guide to every family's ``candidates`` (the surveyor reuses its own)."""

    def survey(self, image: RGBImage, context: ImageContext | None = None) -> FaceGuide: ...


@runtime_checkable
class FaceConfirmer(Protocol):
    """A family that can check another family's unsure detection on a crop around it."""

    def confirms(self, image: RGBImage, face: Box) -> bool: ...


class FaceFamily(Protocol):
    """One face-model family. Built once per process (models load in ``__init__``)."""

    #: The registry name.
    name: str
    #: Model and version, for reports.
    model: str
    #: Attributes holding the model callables (benchmarks wrap them to count calls).
    model_attributes: tuple[str, ...]

    def candidates(
        self,
        image: RGBImage,
        guide: FaceGuide | None = None,
        context: ImageContext | None = None,
    ) -> list[FaceCandidate]:
        """The faces in ``image``; ``context`` is its shared work (detail map, shrunk
        copies: :mod:`redactor.image_context`), built by the family when not given."""
        ...

"""The pipeline's face detector: the chosen families run and their heads merged."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redactor.errors import DetectionError
from redactor.faces.base import (
    FaceCandidate,
    FaceConfirmer,
    FaceFamily,
    FaceSettings,
    FaceSurveyor,
)
from redactor.faces.boxes import overlaps_of_smaller, same_face
from redactor.faces.registry import create_family
from redactor.findings import FACE, Finding, RGBImage
from redactor.geometry import Box, union_box
from redactor.image_context import ImageContext

#: Face boxes covering more than this share of the smaller one are the same face.
SAME_FACE = 0.5


class FaceDetector:
    """Faces by every family chosen (:class:`redactor.findings.Detector`).

    Each finding's box is the whole head (clipped at the frame), the union of every
    family's head estimate for that face; ``attributes["families"]`` says which found it.
    """

    name = "faces"

    def __init__(self, families: Sequence[FaceFamily]) -> None:
        if not families:
            raise ValueError("a face detector needs at least one family")
        self.families = tuple(families)
        self.model = "+".join(f.model for f in self.families)

    @classmethod
    def build(cls, names: Sequence[str], settings: FaceSettings) -> FaceDetector:
        settings = FaceSettings(
            threshold=settings.threshold,
            min_face_px=settings.min_face_px,
            families=tuple(names),
            threads=settings.threads,
        )
        return cls([create_family(name, settings) for name in names])

    def detect(self, image: RGBImage, context: ImageContext | None = None) -> list[Finding]:
        height, width = image.shape[:2]
        context = ImageContext.of(image, context)
        try:
            # The first family that surveys the whole frame guides the others' fine passes.
            surveyor = next((f for f in self.families if isinstance(f, FaceSurveyor)), None)
            guide = surveyor.survey(image, context) if surveyor is not None else None
            found = [
                c for family in self.families for c in family.candidates(image, guide, context)
            ]
            found = [
                c for c in found if c.sure or _corroborated(c, found) or self._confirmed(image, c)
            ]
        except DetectionError:
            raise
        except Exception as exc:
            raise DetectionError(f"face detection failed: {type(exc).__name__}") from exc
        findings = []
        for head, score, families in merge_heads(found):
            box = head.clipped(width, height)
            if box.area <= 0:
                continue
            findings.append(
                Finding(
                    kind=FACE,
                    box=box,
                    score=round(score, 3),
                    detector=self.name,
                    model=self.model,
                    attributes={"shape": "ellipse", "families": ",".join(families)},
                )
            )
        return findings

    def _confirmed(self, image: RGBImage, candidate: FaceCandidate) -> bool:
        """An unsure detection stands when another family confirms it, or when no other
        family can check it (one family alone favours recall, as it always has)."""
        others = [
            f for f in self.families if f.name != candidate.family and isinstance(f, FaceConfirmer)
        ]
        return not others or any(f.confirms(image, candidate.face) for f in others)


def _corroborated(candidate: FaceCandidate, found: Sequence[FaceCandidate]) -> bool:
    """Whether another family found the same face, at about the same size."""
    return any(
        other.family != candidate.family and same_face(candidate.face, other.face, SAME_FACE)
        for other in found
    )


def merge_heads(candidates: Sequence[FaceCandidate]) -> list[tuple[Box, float, list[str]]]:
    """Detections of one face merged: by their face boxes (heads of people one behind
    the other overlap, their faces do not), into the union of their heads, the best
    score and the families that saw it (sorted), best score first.

    Each candidate is compared with every group at once (a crowd has hundreds)."""
    faces = np.zeros((0, 4), dtype=np.float64)
    groups: list[tuple[Box, Box, float, set[str]]] = []
    for c in sorted(candidates, key=lambda c: c.score, reverse=True):
        face, head, score, families = c.face, c.head, c.score, {c.family}
        while groups:
            overlaps = overlaps_of_smaller(_array(face), faces)
            same = np.flatnonzero(overlaps > SAME_FACE)
            if not len(same):
                break
            g = int(same[0])
            gface, ghead, gscore, gfamilies = groups.pop(g)
            faces = np.delete(faces, g, axis=0)
            face, head = union_box([face, gface]), union_box([head, ghead])
            score, families = max(score, gscore), families | gfamilies
        groups.append((face, head, score, families))
        faces = np.vstack([faces, _array(face)[None]])
    return [(head, score, sorted(families)) for _, head, score, families in groups]


def _array(box: Box) -> npt.NDArray[np.float64]:
    return np.asarray([box.x0, box.y0, box.x1, box.y1], dtype=np.float64)

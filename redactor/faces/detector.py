"""The pipeline's face detector: the chosen families run and their heads merged."""

from __future__ import annotations

from collections.abc import Sequence

from redactor.errors import DetectionError
from redactor.faces.base import FaceCandidate, FaceFamily, FaceSettings
from redactor.faces.registry import create_family
from redactor.findings import FACE, Finding, RGBImage
from redactor.geometry import Box, overlap_of_smaller, union_box

#: Heads covering more than this share of the smaller one are the same head.
SAME_HEAD = 0.6


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

    def detect(self, image: RGBImage) -> list[Finding]:
        height, width = image.shape[:2]
        try:
            found = [c for family in self.families for c in family.candidates(image)]
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


def merge_heads(candidates: Sequence[FaceCandidate]) -> list[tuple[Box, float, list[str]]]:
    """Heads that are one head merged: the union of their boxes, the best score and
    the families that saw it (sorted), best score first."""
    groups: list[tuple[Box, float, set[str]]] = []
    for c in sorted(candidates, key=lambda c: c.score, reverse=True):
        box, score, families = c.head, c.score, {c.family}
        merged = True
        while merged:
            merged = False
            for g, (gbox, gscore, gfamilies) in enumerate(groups):
                if overlap_of_smaller(box, gbox) > SAME_HEAD:
                    box, score = union_box([box, gbox]), max(score, gscore)
                    families |= gfamilies
                    del groups[g]
                    merged = True
                    break
        groups.append((box, score, families))
    return [(box, score, sorted(families)) for box, score, families in groups]

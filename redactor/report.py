"""The per-image report: what was found, what was done, what was removed. Never content."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from redactor import __version__
from redactor.findings import Finding
from redactor.options import IccState


@dataclass(frozen=True, slots=True)
class FindingRecord:
    kind: str
    box: list[float]
    score: float
    detector: str
    model: str
    action: str
    frame: int | None = None
    text_hash: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def of(finding: Finding, action: str, frame: int | None) -> FindingRecord:
        return FindingRecord(
            kind=finding.kind,
            box=finding.box.as_list(),
            score=round(finding.score, 3),
            detector=finding.detector,
            model=finding.model,
            action=action,
            frame=frame,
            text_hash=finding.text_hash,
            attributes=dict(finding.attributes),
        )


@dataclass(frozen=True, slots=True)
class ImageFacts:
    format: str
    width: int
    height: int
    frames: int
    bytes: int
    sha256: str


@dataclass(slots=True)
class Report:
    status: Literal["redacted", "failed"] = "failed"
    error_code: str | None = None
    error: str | None = None
    input: ImageFacts | None = None
    output: ImageFacts | None = None
    findings: list[FindingRecord] = field(default_factory=list)
    metadata_removed: dict[str, int] = field(default_factory=dict)
    #: What became of the upload's ICC profile: ``kept``, ``sanitised`` (rebuilt from its
    #: colour tags), ``replaced`` (by redactor's sRGB or Display P3), ``dropped`` or ``absent``.
    icc_profile: IccState | None = None
    orientation_applied: int | None = None
    #: Things done that a reader should know, in redactor's words (never content), e.g.
    #: an invalid EXIF Orientation treated as 1.
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    redactor_version: str = __version__

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts
        return data

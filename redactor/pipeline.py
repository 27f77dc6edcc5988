"""One image in, one redacted image and its report out; nothing out if anything failed.

The pipeline is built once per process (models load in the detectors' constructors)
and then run on any number of images. It never raises for a bad image: every failure
becomes a report with ``status="failed"`` and no output bytes (fail closed).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from redactor import imaging
from redactor.containers import assert_metadata_free
from redactor.errors import RedactorError
from redactor.findings import Detector, Finding, LineReader, Reviewer, RGBImage
from redactor.image_context import ImageContext
from redactor.options import IccState, PipelineOptions
from redactor.redact import apply_redactions
from redactor.report import FindingRecord, ImageFacts, Report
from redactor.text.lines import TextLine
from redactor.threads import current_limit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RedactionResult:
    report: Report
    #: The redacted, metadata-free image; ``None`` whenever anything failed.
    output: bytes | None
    output_format: str | None

    @property
    def ok(self) -> bool:
        return self.output is not None


class Pipeline:
    def __init__(
        self,
        options: PipelineOptions,
        detectors: Sequence[Detector],
        *,
        propagate: tuple[type[BaseException], ...] = (),
        reviewers: Sequence[Reviewer] = (),
    ) -> None:
        """``propagate``: exceptions the caller handles itself (e.g. a task time limit),
        raised through instead of becoming an ``internal_error`` report. ``reviewers``
        run after every detector on all their findings and the text lines read."""
        self.options = options
        self.detectors = tuple(detectors)
        self.propagate = propagate
        self.reviewers = tuple(reviewers)

    @classmethod
    def build(
        cls,
        options: PipelineOptions | None = None,
        *,
        hash_key: bytes | None = None,
        propagate: tuple[type[BaseException], ...] = (),
        threads: int | None = None,
    ) -> Pipeline:
        """Build the detectors the options ask for, loading and verifying their models.

        ``threads`` caps the OCR engine's CPU threads; by default the limit this process
        set with :func:`redactor.threads.limit_threads`, if any.
        """
        options = options or PipelineOptions()
        detectors: list[Detector] = []
        if options.faces:
            from redactor.faces import FaceDetector, FaceSettings

            settings = FaceSettings(
                threshold=options.face_threshold,
                min_face_px=options.min_face_px,
                threads=threads or current_limit(),
            )
            detectors.append(FaceDetector.build(options.face_detectors, settings))
        from redactor.text.builders import build_reviewers, build_text_detectors

        threads = threads or current_limit()
        detectors += build_text_detectors(options, hash_key, threads=threads)
        reviewers = build_reviewers(options, hash_key, threads=threads)
        return cls(options, detectors, propagate=propagate, reviewers=reviewers)

    def run(self, data: bytes) -> RedactionResult:
        report = Report()
        timer = _Timer(report)
        try:
            with timer("total"):
                output, fmt = self._run(data, report, timer)
        except RedactorError as exc:
            return _failed(report, exc.code, str(exc))
        except self.propagate:
            raise
        except Exception as exc:
            log.exception("unexpected failure while redacting an image")
            return _failed(report, "internal_error", f"unexpected {type(exc).__name__}")
        report.status = "redacted"
        return RedactionResult(report=report, output=output, output_format=fmt)

    def _run(self, data: bytes, report: Report, timer: _Timer) -> tuple[bytes, str]:
        with timer("decode"):
            image = imaging.decode(data, self.options.limits)
        report.input = _facts(
            image.format.value, image.width, image.height, image.frame_count, data
        )
        report.orientation_applied = image.orientation
        report.notes.extend(image.notes)
        frames = [frame.copy() for frame in image.frames]
        multi = len(frames) > 1
        for index, frame in enumerate(frames):
            findings = [
                f for view in imaging.detection_views(frame) for f in self._detect(view, timer)
            ]
            with timer("redact"):
                applied = apply_redactions(frame, findings, self.options)
            report.findings.extend(
                FindingRecord.of(f, action, index if multi else None) for f, action in applied
            )
        with timer("encode"):
            encoded = imaging.encode(
                frames, image, icc=self.options.icc, jpeg_quality=self.options.jpeg_quality
            )
            assert_metadata_free(encoded.data, icc_profile=encoded.icc_profile)
        report.metadata_removed = _removed(image.metadata_found, encoded.icc_state)
        report.icc_profile = encoded.icc_state
        report.output = _facts(
            encoded.format.value, encoded.width, encoded.height, len(frames), encoded.data
        )
        return encoded.data, encoded.format.value

    def _detect(self, view: RGBImage, timer: _Timer) -> list[Finding]:
        """Every detector, then every reviewer over all their findings and the lines read:
        document mode must see the portrait (a face finding) and the OCR lines at once,
        and may replace findings (it narrows margins inside a document). The detectors
        share one :class:`ImageContext`: what more than one of them derives from the
        view (its detail map, shrunk copies) is computed once."""
        findings: list[Finding] = []
        lines: list[TextLine] = []
        context = ImageContext(view)
        for detector in self.detectors:
            with timer(detector.name):
                if isinstance(detector, LineReader):
                    reading = detector.read(view, context)
                    findings.extend(reading.findings)
                    lines.extend(reading.lines)
                else:
                    findings.extend(detector.detect(view, context))
        for reviewer in self.reviewers:
            with timer(reviewer.name):
                findings = list(reviewer.review(view, findings, lines))
        return findings


class _Timer:
    def __init__(self, report: Report) -> None:
        self.report = report

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            self.report.timings_ms[stage] = round(
                self.report.timings_ms.get(stage, 0.0) + elapsed, 2
            )


def _facts(fmt: str, width: int, height: int, frames: int, data: bytes) -> ImageFacts:
    return ImageFacts(
        format=fmt,
        width=width,
        height=height,
        frames=frames,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _removed(found: dict[str, int], icc_state: IccState) -> dict[str, int]:
    """Metadata groups not in the output: the profile only when it was dropped (a kept,
    sanitised or replaced one is described by ``icc_profile``)."""
    return {name: n for name, n in found.items() if name != "icc" or icc_state == "dropped"}


def _failed(report: Report, code: str, message: str) -> RedactionResult:
    report.status = "failed"
    report.error_code = code
    report.error = message
    report.output = None
    report.findings = []
    return RedactionResult(report=report, output=None, output_format=None)

"""Building the text and code detectors and document mode from the options: the one
place that reads ``options.text`` and ``options.codes`` to decide which of them exist,
and ``options.ocr_precision`` to choose the text detector's weights."""

from __future__ import annotations

from redactor.documents.reread import EngineExtentReader
from redactor.documents.review import DocumentReviewer
from redactor.findings import Detector, Reviewer
from redactor.options import PipelineOptions
from redactor.pii import build_recognizers
from redactor.pii.policy import Policy
from redactor.text.code_detector import CodeDetector
from redactor.text.detector import TextDetector
from redactor.text.engines import shared_engine
from redactor.text.ocr import EngineSettings, OcrEngine


def build_text_detectors(
    options: PipelineOptions,
    hash_key: bytes | None = None,
    *,
    threads: int | None = None,
) -> list[Detector]:
    """The text detector (unless ``options.text`` is off) and the code detector (unless
    ``options.codes`` is off), both keyed with ``hash_key``.

    The OCR engine is this process's shared one for ``options.ocr_engine``, built on
    first use; ``threads`` caps its CPU threads (default: the runtime's own choice).
    """
    detectors: list[Detector] = []
    if options.text != "off":
        detectors.append(
            TextDetector(
                _engine(options, threads),
                options.text,
                options.allow_terms,
                options.deny_terms,
                hash_key,
                recognizers=build_recognizers(),
                two_scale=options.ocr_two_scale,
            )
        )
    if options.codes:
        detectors.append(CodeDetector(hash_key))
    return detectors


def build_reviewers(
    options: PipelineOptions, hash_key: bytes | None = None, *, threads: int | None = None
) -> list[Reviewer]:
    """Document mode, which reads the text detector's lines: none when text is off. It
    reads each document's extent again, larger, with the text detector's shared engine
    (the same ``threads``, so the same engine)."""
    if options.text == "off":
        return []
    policy = Policy.build(options.text, options.allow_terms, options.deny_terms)
    reader = EngineExtentReader(_engine(options, threads))
    return [DocumentReviewer(policy, hash_key, reader=reader)]


def _engine(options: PipelineOptions, threads: int | None) -> OcrEngine:
    """This process's shared OCR engine for the options, built on first use: one per
    precision (and threads and detection side), so jobs of either precision load their
    models once per process."""
    return shared_engine(
        options.ocr_engine,
        EngineSettings(
            threads=threads,
            detection_side=options.ocr_detection_side,
            precision=options.ocr_precision,
        ),
    )

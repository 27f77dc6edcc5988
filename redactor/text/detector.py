"""The text detector: OCR, line reconstruction, the PII rules, findings.

Findings carry boxes, kinds, rules and (with a key) keyed hashes. The text itself never
leaves this module: not in findings, logs or exception messages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

from redactor.errors import ConfigError
from redactor.findings import Finding, RGBImage, TextReading
from redactor.geometry import union_box
from redactor.image_context import ImageContext
from redactor.options import TextPolicy
from redactor.pii import build_recognizers
from redactor.pii.base import Recognizer
from redactor.pii.hashing import text_hash
from redactor.pii.policy import Policy
from redactor.text.context import Hit, LineRules, deduplicated, everything, runs
from redactor.text.lines import TextLine, build_lines
from redactor.text.ocr import OcrEngine
from redactor.text.reading import MAX_OCR_SIDE, read_text

logger = logging.getLogger(__name__)


class TextDetector:
    """Personal (or, under the ``all`` policy, any) text in an image.

    The engine is built by the caller and reused; the detector adds line
    reconstruction, the PII rules, the allow and deny lists and the block rule.
    The ``off`` policy builds no text detector (see :mod:`redactor.text.builders`).
    """

    name = "text"

    def __init__(
        self,
        engine: OcrEngine,
        policy: TextPolicy,
        allow_terms: Iterable[str] = (),
        deny_terms: Iterable[str] = (),
        hash_key: bytes | None = None,
        *,
        recognizers: Sequence[Recognizer] | None = None,
        max_side: int = MAX_OCR_SIDE,
        two_scale: bool = False,
    ) -> None:
        if policy == "off":
            raise ConfigError("the text policy 'off' has no text detector; build none instead")
        if hash_key is not None and not hash_key:
            raise ConfigError("the text-hash key is empty; pass None or a long random secret")
        self._engine = engine
        self._policy = Policy.build(policy, allow_terms, deny_terms)
        self._rules = LineRules(recognizers if recognizers is not None else build_recognizers())
        self._hash_key = hash_key
        self._max_side = max_side
        self._two_scale = two_scale
        self.model = engine.version

    def detect(self, image: RGBImage, context: ImageContext | None = None) -> list[Finding]:
        return list(self.read(image, context).findings)

    def read(self, image: RGBImage, context: ImageContext | None = None) -> TextReading:
        """The findings and the lines read (document mode needs both)."""
        lines = build_lines(
            read_text(
                self._engine, image, self._max_side, two_scale=self._two_scale, context=context
            )
        )
        hits = (
            everything(lines)
            if self._policy.mode == "all"
            else self._rules.personal(lines, self._policy)
        )
        findings = [f for hit in deduplicated(hits, lines) for f in self._findings(hit, lines)]
        logger.info("text: %d lines read, %d regions to redact", len(lines), len(findings))
        return TextReading(findings, lines)

    def _findings(self, hit: Hit, lines: Sequence[TextLine]) -> Iterator[Finding]:
        """One finding per run of words under the match that the allow list does not keep."""
        line = lines[hit.line]
        match = hit.match
        spans = line.spans
        under = [k for k, (s, e) in enumerate(spans) if s < match.end and match.start < e]
        kept = self._policy.kept_words(line.text, [spans[k] for k in under])
        for start, end in runs([not k for k in kept]):
            words = [line.words[under[k]] for k in range(start, end)]
            yield Finding(
                kind=match.kind,
                box=union_box([w.box for w in words]),
                score=min(w.confidence for w in words),
                detector=self.name,
                model=self.model,
                text_hash=self._hash(line.text[match.start : match.end]),
                attributes={"rule": match.rule},
            )

    def _hash(self, text: str) -> str | None:
        return None if self._hash_key is None else text_hash(self._hash_key, text)

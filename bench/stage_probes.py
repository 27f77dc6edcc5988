"""Probes that time parts of the detectors from outside (OCR detection, direction,
recognition, the PII rules, code finders, face model calls): wrappers that only time
calls, so nothing in the pipeline changes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any


class StageProbe:
    """Accumulates milliseconds (and face-model calls) per part while one image runs."""

    def __init__(self) -> None:
        self.ms: defaultdict[str, float] = defaultdict(float)

    def timed(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(call)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.ms[name] += (time.perf_counter() - started) * 1000

        return timed_call

    def rapidocr(self, ocr: Any) -> Any:
        """Record RapidOCR's own detection, classification and recognition times."""
        return _TimedRapidOcr(ocr, self.ms)

    def attach(self, pipeline: Any) -> None:
        """Wrap the detectors' parts; the code module's functions are wrapped once."""
        for detector in pipeline.detectors:
            if detector.name == "faces":
                for family in detector.families:
                    for model in family.model_attributes:
                        wrapped = self._counted(getattr(family, model))
                        setattr(family, model, self.timed("faces.model", wrapped))
            if detector.name == "text":
                # Pipelines whose engine settings agree share one engine (see
                # redactor.text.engines.shared_engine): wrap it once only.
                engine = detector._engine
                if hasattr(engine, "_ocr") and not isinstance(engine._ocr, _TimedRapidOcr):
                    engine._ocr = self.rapidocr(engine._ocr)
                propose = getattr(engine, "propose", None)  # the two-scale first pass
                if propose is not None and not hasattr(propose, "__wrapped__"):
                    engine.propose = self.timed("ocr.propose", propose)

    def attach_modules(self) -> None:
        """Wrap the code finders and the text detector's OCR call (module functions, once)."""
        from redactor.text import codes, detector

        detector.read_text = self.timed("ocr", detector.read_text)  # type: ignore[attr-defined]
        for function, name in (
            ("read_codes", "code.zxing"),
            ("qr_regions", "code.qr_finder"),
            ("barcode_regions", "code.barcode_finder"),
        ):
            setattr(codes, function, self.timed(name, getattr(codes, function)))

    def _counted(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.ms["faces.model_calls"] += 1
            return call(*args, **kwargs)

        return counted

    def take(self, timings: dict[str, float]) -> dict[str, float]:
        """The report's timings with the text stage split; clears the probe."""
        parts = dict(self.ms)
        self.ms.clear()
        if "ocr" in parts:
            steps = sum(parts.get(k, 0.0) for k in ("ocr.propose", "ocr.det", "ocr.cls", "ocr.rec"))
            parts["ocr.other"] = parts.pop("ocr") - steps
            parts["pii_rules"] = timings.get("text", 0.0) - parts["ocr.other"] - steps
        return {**timings, **parts}


class _TimedRapidOcr:
    """A RapidOCR object whose calls add its per-step times to ``ms``; every attribute
    (the engine adapter sets its detector's canvas) is the wrapped object's."""

    def __init__(self, ocr: Any, ms: defaultdict[str, float]) -> None:
        self._wrapped = ocr
        self._ms = ms

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self._wrapped(*args, **kwargs)
        steps = [*getattr(output, "elapse_list", []), None, None, None][:3]
        for name, seconds in zip(("ocr.det", "ocr.cls", "ocr.rec"), steps, strict=True):
            self._ms[name] += (seconds or 0.0) * 1000
        return output

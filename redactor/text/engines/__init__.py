"""OCR engine adapters and their registry: each adapter turns one library's output into
:mod:`redactor.text.ocr` records; :data:`ENGINES` names them for the options.

Factories import their backend lazily, so choosing one engine never loads the other and
importing this registry (the options do, for the engine names) loads neither.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from redactor.errors import ConfigError
from redactor.text.ocr import EngineSettings, OcrEngine

EngineFactory = Callable[[EngineSettings], OcrEngine]


def _rapidocr(settings: EngineSettings) -> OcrEngine:
    from redactor.text.engines.rapid import RapidOcrEngine

    return RapidOcrEngine(
        threads=settings.threads,
        detection_side=settings.detection_side,
        device=settings.device,
        precision=settings.precision,
    )


def _easyocr(settings: EngineSettings) -> OcrEngine:
    from redactor.text.engines.easy import EasyOcrEngine

    return EasyOcrEngine(device=settings.device, threads=settings.threads)


#: Engine factories by the short name used in :class:`redactor.options.PipelineOptions`;
#: the first is the default.
ENGINES: Mapping[str, EngineFactory] = {"rapidocr": _rapidocr, "easyocr": _easyocr}

_shared: dict[tuple[str, EngineSettings], OcrEngine] = {}
_shared_lock = threading.Lock()


def create_engine(name: str, settings: EngineSettings | None = None) -> OcrEngine:
    """A new engine instance (loads its models); prefer :func:`shared_engine` in services."""
    factory = ENGINES.get(name)
    if factory is None:
        known = ", ".join(sorted(ENGINES))
        raise ConfigError(f"unknown OCR engine {name!r}; choose one of: {known}")
    return factory(settings or EngineSettings())


def shared_engine(name: str, settings: EngineSettings | None = None) -> OcrEngine:
    """The engine of this process for ``name``, built on first use and then reused."""
    key = (name, settings or EngineSettings())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = create_engine(*key)
        return _shared[key]

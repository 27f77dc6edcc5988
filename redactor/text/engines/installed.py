"""Which OCR engines this installation has: RapidOCR always, EasyOCR with an extra.

EasyOCR needs PyTorch (gigabytes), so it is the optional extra ``redactor[easyocr]``.
Choosing it where it is missing is a one-line error naming the extra, found without
importing anything heavy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

from redactor.errors import ConfigError

#: Engines that come with an optional extra: the extra's name and the modules it brings.
OPTIONAL_ENGINES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "easyocr": ("easyocr", ("easyocr", "torch", "torchvision", "easyocr_en_models")),
}


def require_engine(name: str) -> None:
    """Raise :class:`ConfigError` (one line, naming the extra) if ``name`` is not installed."""
    extra, modules = OPTIONAL_ENGINES.get(name, ("", ()))
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(
            f"the {name} OCR engine is not installed (missing {', '.join(missing)}): "
            f"pip install 'redactor[{extra}]'"
        )

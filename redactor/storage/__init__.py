"""Object storage for originals, results and reports, behind a small protocol.

Backends are chosen by short name from :data:`BACKENDS`; each factory takes one
location string (a folder for ``local``; a bucket URL for object storage later).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from redactor.errors import ConfigError
from redactor.storage.base import ObjectMissing, Storage, StoredObject
from redactor.storage.local import LocalStorage

BACKENDS: dict[str, Callable[[str], Storage]] = {
    "local": lambda location: LocalStorage(Path(location)),
}


def open_storage(backend: str, location: str) -> Storage:
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ConfigError(
            f"unknown storage backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(location)


__all__ = ["BACKENDS", "LocalStorage", "ObjectMissing", "Storage", "StoredObject", "open_storage"]

"""Object storage for originals, results and reports, behind a small protocol.

Backends are chosen by short name from :data:`BACKENDS`: ``local`` (a folder, or a
shared mount) and ``s3`` (any S3-compatible object store). Either can be wrapped in
:class:`~redactor.storage.encrypted.EncryptedStorage`. Services build theirs in one
place, ``ServiceSettings.build_storage``, so every process stores the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from redactor.errors import ConfigError
from redactor.storage.base import ObjectMissing, Storage, StoredObject
from redactor.storage.local import LocalStorage

if TYPE_CHECKING:
    from redactor.storage.s3 import S3Config

#: A backend from the local folder and the S3 settings (each backend reads its own).
BackendFactory = Callable[[str, "S3Config | None"], Storage]


def _local(location: str, s3: S3Config | None) -> Storage:
    return LocalStorage(Path(location))


def _s3(location: str, s3: S3Config | None) -> Storage:
    if s3 is None:
        raise ConfigError("the s3 storage backend needs a bucket (REDACTOR_S3_BUCKET)")
    from redactor.storage.s3 import S3Storage  # boto3 loads only where S3 is used

    return S3Storage(s3)


BACKENDS: dict[str, BackendFactory] = {"local": _local, "s3": _s3}


def open_storage(backend: str, location: str = "", *, s3: S3Config | None = None) -> Storage:
    """The ``backend`` storage: ``local`` in the folder ``location``, ``s3`` in ``s3``'s bucket."""
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ConfigError(
            f"unknown storage backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(location, s3)


__all__ = ["BACKENDS", "LocalStorage", "ObjectMissing", "Storage", "StoredObject", "open_storage"]

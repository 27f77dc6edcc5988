"""The storage protocol every backend (a local folder, an S3 bucket) meets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple, Protocol

from redactor.errors import RedactorError


class ObjectMissing(RedactorError):
    """No object is stored under the key.

    Not a :class:`~redactor.errors.StorageError`: those are retried as transient, and a
    missing object will still be missing on the next try.
    """

    code = "missing_object"


class StoredObject(NamedTuple):
    key: str
    size: int
    #: Last modification time, timezone-aware UTC.
    mtime: datetime


class Storage(Protocol):
    """A flat key -> bytes store with keys from :mod:`redactor.storage.keys`.

    Backends raise :class:`~redactor.storage.keys.InvalidKey` for keys outside the
    layout, :class:`ObjectMissing` for absent objects and
    :class:`~redactor.errors.StorageError` for failures that may pass on a retry.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` atomically: readers see the old object or all of the new one."""
        ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> bool:
        """Remove the object; ``True`` if it existed. Afterwards it is verified gone."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str, older_than: datetime | None = None) -> Iterator[StoredObject]:
        """Objects under ``prefix`` (modified before ``older_than`` if given), by key."""
        ...

    def purge_partial_writes(self, older_than: datetime) -> int:
        """Remove writes a killed writer left unfinished before ``older_than``; their count.

        They are never listed or served, but may hold parts of an image.
        """
        ...

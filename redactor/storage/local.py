"""Storage in a local folder (or a shared network mount) with crash-safe writes.

A write goes to a hidden temp file in the destination folder, is fsynced, renamed over
the final name with ``os.replace`` (atomic on POSIX within one file system) and the
folder is fsynced so the rename itself survives a power cut. Temp files start with a
dot, which no valid key does, so they are never listed or served.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from redactor.errors import StorageError
from redactor.storage.base import ObjectMissing, StoredObject
from redactor.storage.keys import KEY_PATTERN, validate_key, validate_prefix

_FILE_MODE = 0o600
_DIR_MODE = 0o700
_TEMP_PREFIX = ".tmp-"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            self._make_folders(path.parent)
            temp = path.parent / f"{_TEMP_PREFIX}{secrets.token_hex(8)}"
            try:
                _write_synced(temp, data)
                temp.replace(path)
            finally:
                temp.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(f"could not write {key}: {exc.strerror}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object stored under {key}") from exc
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc.strerror}") from exc

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
            _fsync_dir(path.parent)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"could not delete {key}: {exc.strerror}") from exc
        if path.exists():
            raise StorageError(f"{key} is still present after deleting it")
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str, older_than: datetime | None = None) -> Iterator[StoredObject]:
        start = self.root / validate_prefix(prefix)
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            for name in sorted(filenames):
                found = self._stored(Path(dirpath) / name)
                if found is not None and (older_than is None or found.mtime < older_than):
                    yield found

    def purge_partial_writes(self, older_than: datetime) -> int:
        stale = [
            Path(dirpath) / name
            for dirpath, _, filenames in os.walk(self.root)
            for name in filenames
            if name.startswith(_TEMP_PREFIX) and _modified_before(Path(dirpath) / name, older_than)
        ]
        for path in stale:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise StorageError(f"could not remove a partial write: {exc.strerror}") from exc
        return len(stale)

    def _stored(self, path: Path) -> StoredObject | None:
        key = path.relative_to(self.root).as_posix()
        if not KEY_PATTERN.fullmatch(key):  # temp files and strangers are never listed
            return None
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted while we were listing
            return None
        return StoredObject(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _make_folders(self, folder: Path) -> None:
        """Create missing folders, fsyncing each parent so the new entries are durable."""
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another writer made it first
                path.mkdir(mode=_DIR_MODE)
            _fsync_dir(path.parent)


def _modified_before(path: Path, moment: datetime) -> bool:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) < moment
    except FileNotFoundError:  # its writer finished (renamed it) meanwhile
        return False


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Checksum verification; each file is verified once per process."""

from __future__ import annotations

import hashlib
import importlib.metadata
import threading
from dataclasses import dataclass
from pathlib import Path

from models.manifest import ModelFile, load_manifest, model_entry
from redactor.errors import ModelIntegrityError

_verified: dict[str, Path] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entry: ModelFile
    path: Path
    ok: bool
    problem: str | None
    #: ``False`` for a file of an optional extra that is not installed (``ok`` is then
    #: ``True``: nothing is wrong, the engine is just not there).
    installed: bool = True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(entry: ModelFile, path: Path | None = None) -> Path:
    """Check one file against the manifest and return its path.

    Raises :class:`ModelIntegrityError` naming the file and the expected checksum when
    the providing package has another version, or the file is missing or altered.
    """
    path = path or entry.location()
    installed = _version(entry.package)
    if not entry.bundled and installed != entry.version:
        raise ModelIntegrityError(
            f"model {entry.name!r}: manifest expects {entry.package}=={entry.version}, "
            f"installed is {installed or 'nothing'}; reinstall with `make install`"
        )
    remedy = (
        f"restore it from this repository ({entry.module}/{entry.path})"
        if entry.bundled
        else f"reinstall {entry.package}=={entry.version}"
    )
    if not path.is_file():
        raise ModelIntegrityError(
            f"model file missing: {path} (expected sha256 {entry.sha256}); {remedy}"
        )
    actual = _sha256(path)
    if actual != entry.sha256:
        raise ModelIntegrityError(
            f"model file altered: {path} has sha256 {actual}, expected {entry.sha256}; {remedy}"
        )
    return path


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def verified_path(name: str) -> Path:
    """The path of a manifest file, verified the first time this process asks."""
    with _lock:
        if name not in _verified:
            _verified[name] = verify_file(model_entry(name))
        return _verified[name]


def verify_all() -> list[VerifyResult]:
    results = []
    for entry in load_manifest():
        if entry.extra is not None and _version(entry.package) is None:
            results.append(VerifyResult(entry, Path(entry.path), True, None, installed=False))
            continue
        try:
            path = verify_file(entry)
            results.append(VerifyResult(entry, path, ok=True, problem=None))
        except ModelIntegrityError as exc:
            results.append(VerifyResult(entry, _where(entry), ok=False, problem=str(exc)))
    return results


def _where(entry: ModelFile) -> Path:
    """Where the file should be; its manifest path alone when its package is missing."""
    try:
        return entry.location()
    except ModelIntegrityError:
        return Path(entry.path)

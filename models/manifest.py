"""Reading ``manifest.json`` and locating each file inside its installed package."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from redactor.errors import ModelIntegrityError

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
#: The ``version`` of a file this repository ships itself (its sha256 is the check).
BUNDLED = "bundled"


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str
    description: str
    package: str
    version: str
    module: str
    path: str
    size: int
    sha256: str
    licence: str
    #: The upstream project's published md5, where it publishes one (EasyOCR does).
    md5: str | None = None
    #: For a file shipped in this repository (``version`` is then ``"bundled"``): where
    #: it came from, with the source's own checksum and licence.
    origin: str | None = None
    #: The optional extra that installs the providing package (``redactor[easyocr]``);
    #: ``None``: the base install has it.
    extra: str | None = None

    @property
    def bundled(self) -> bool:
        """Shipped in this repository (under ``module``), not by a third-party package."""
        return self.version == BUNDLED

    @property
    def source(self) -> str:
        """Where the file comes from, for listings: ``package==version`` or bundled."""
        return "this repository" if self.bundled else f"{self.package}=={self.version}"

    def location(self) -> Path:
        """Where the file should be, found without importing the providing package."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelIntegrityError(
                f"model {self.name!r}: package {self.package}=={self.version} "
                f"(module {self.module!r}) is not installed; reinstall with `make install`"
            )
        return Path(next(iter(spec.submodule_search_locations))) / self.path


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> tuple[ModelFile, ...]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != 1:
        raise ModelIntegrityError(f"{path}: unknown manifest schema {data.get('schema')!r}")
    return tuple(ModelFile(**entry) for entry in data["models"])


def model_entry(name: str) -> ModelFile:
    for entry in load_manifest():
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in load_manifest())
    raise ModelIntegrityError(f"no model named {name!r} in the manifest (known: {known})")

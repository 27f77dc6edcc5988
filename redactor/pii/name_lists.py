"""First and last names from the ``names-dataset`` package, cut down to what the rules use.

The package holds every name it knows for every country (about 1 GB once loaded, and
seconds to load). The rules need only the most common names of the countries served,
so those are extracted once, in a child process that then exits and returns its memory,
and kept in a small JSON file keyed by the package version and the extraction settings.
Each process then reads the small file once.

``write_extract(path)`` makes the file by hand (e.g. in an image build step).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from redactor.pii.base import word_set

logger = logging.getLogger(__name__)

COUNTRIES = tuple(sorted(word_set("US GB IE CA AU DE AT CH NL BE FR CZ SK PL ES IT SE DK")))
#: Most common first names per country and gender, and last names per country.
TOP_FIRST = 400
TOP_LAST = 1000


@dataclass(frozen=True, slots=True)
class NameLists:
    """Case-folded first and last names."""

    first: frozenset[str]
    last: frozenset[str]


def extract() -> NameLists:
    """Load ``names-dataset`` (slow, memory-hungry) and keep the top names only."""
    from names_dataset import NameDataset

    firsts: set[str] = set()
    dataset = NameDataset(load_first_names=True, load_last_names=False)
    for country in COUNTRIES:
        by_gender = dataset.get_top_names(n=TOP_FIRST, country_alpha2=country).get(country, {})
        for names in by_gender.values():
            firsts.update(n.casefold() for n in names)
    del dataset
    lasts: set[str] = set()
    dataset = NameDataset(load_first_names=False, load_last_names=True)
    for country in COUNTRIES:
        top = dataset.get_top_names(n=TOP_LAST, use_first_names=False, country_alpha2=country)
        lasts.update(n.casefold() for n in top.get(country, []))
    return NameLists(frozenset(firsts), frozenset(lasts))


def write_extract(path: Path | str) -> None:
    """Extract the lists and write them to ``path`` atomically (never half a file)."""
    path = Path(path)
    lists = extract()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"first": sorted(lists.first), "last": sorted(lists.last)}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
        json.dump(data, f)
    Path(f.name).replace(path)


def _read(path: Path) -> NameLists:
    data = json.loads(path.read_text(encoding="utf-8"))
    return NameLists(frozenset(data["first"]), frozenset(data["last"]))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "redactor"


def cache_file(cache_dir: Path) -> Path:
    """The extract's file name: changes whenever the package or the settings change."""
    version = importlib.metadata.version("names-dataset")
    settings = f"{version}|{','.join(COUNTRIES)}|{TOP_FIRST}|{TOP_LAST}"
    digest = hashlib.sha256(settings.encode()).hexdigest()[:12]
    return cache_dir / f"names-{version}-{digest}.json"


@functools.cache
def load_name_lists(cache_dir: Path | None = None) -> NameLists:
    """The name lists, read once per process from the cached extract (made if missing)."""
    path = cache_file(cache_dir or default_cache_dir())
    if path.is_file():
        try:
            return _read(path)
        except (OSError, ValueError, KeyError):
            logger.warning("name-list cache %s is unreadable; extracting again", path)
    logger.info("extracting name lists from names-dataset into %s", path)
    code = f"import sys; from {__name__} import write_extract; write_extract(sys.argv[1])"
    try:
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
        return _read(path)
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError):
        logger.warning("cannot cache name lists in %s; extracting in this process", path)
        return extract()

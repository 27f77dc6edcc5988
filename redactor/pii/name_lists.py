"""First and last names shipped with redactor, in ``redactor/pii/data/``.

About 9,000 first names and 18,000 surnames (200 KB of text) from official statistics
and curated open data: the US Census Bureau's 1990 name files and Faker's per-locale
name lists (national statistics offices for many of them). ``data/SOURCES.md`` lists
every source and licence; ``scripts/build_name_lists.py`` makes the files. Nothing is
extracted or downloaded at run time: each process reads the two files once.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable

DATA = importlib.resources.files(__package__) / "data"


@dataclass(frozen=True, slots=True)
class NameLists:
    """Case-folded first and last names."""

    first: frozenset[str]
    last: frozenset[str]


@functools.cache
def load_name_lists() -> NameLists:
    """The shipped name lists, read once per process."""
    return NameLists(_read(DATA / "first_names.txt"), _read(DATA / "last_names.txt"))


def _read(file: Traversable) -> frozenset[str]:
    return frozenset(file.read_text(encoding="utf-8").split("\n")) - {""}

"""Build the personal-name lists shipped in redactor/pii/data/ (run by hand; outputs committed).

``python scripts/build_name_lists.py [--check]`` writes ``first_names.txt``,
``last_names.txt`` (one case-folded name per line, sorted) and ``SOURCES.md`` from:

* the US Census Bureau's 1990 name files (public domain, a work of the US federal
  government), as packaged in the ``names`` package on PyPI (MIT): every first name
  (the files list the names of 90 % of the population) and the most common surnames;
* the per-locale person providers of Faker (MIT), the library the project already uses
  to invent test data, for the countries the name rules serve. Each locale's upstream
  origin, as Faker's source cites it, is listed in SOURCES.md.

``--check`` builds in memory and exits 1 if the committed files differ (a test runs it).
Both packages are development dependencies; the runtime reads only the text files.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.resources
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "redactor" / "pii" / "data"
#: The most common US surnames taken from the 88,799 of the 1990 census.
CENSUS_SURNAMES = 5000
CENSUS_FILES = {"first": ("dist.male.first", "dist.female.first"), "last": ("dist.all.last",)}
#: Faker locales for the countries served (US GB IE CA AU DE AT CH NL BE FR CZ SK PL ES IT
#: SE DK; Faker has no en_CA or en_AU person data, so those rely on the US, GB and IE
#: lists), with the origin Faker's source gives for its names.
FAKER_LOCALES = {
    "en_US": "first names: SSA top 200 per decade, 1960s-1990s; surnames: US Census top 1000",
    "en_GB": "Office for National Statistics (ONS) name reference tables",
    "en_IE": "surnames: UCD/DCU duchas.ie project; first names: NISRA baby names 2016",
    "fr_CA": "Retraite Québec, banque de prénoms",
    "de_DE": "Wiktionary lists of the most common German first names; namenforschung.net",
    "de_AT": "data.gv.at (Statistik Austria first names); Wiktionary most common surnames",
    "de_CH": "Swiss Federal Statistical Office (BFS), names in Switzerland",
    "fr_CH": "no source cited",
    "nl_NL": "no source cited",
    "nl_BE": "Statbel (Statistics Belgium), 2022",
    "fr_BE": "Statbel (Statistics Belgium), 2022",
    "fr_FR": "no source cited",
    "cs_CZ": "Czech Wikipedia: name days; most common surnames in Czechia",
    "sk_SK": "Slovak Wikipedia categories of given names and surnames",
    "pl_PL": "no source cited",
    "es_ES": "compiled by Álvaro Mondéjar Rubio (477 male and 477 female first names)",
    "it_IT": "English Wikipedia/Wiktionary categories of Italian given names and surnames",
    "sv_SE": "Swedish Tax Agency (surnames, 2025); Isof (first names, 2023)",
    "da_DK": "no source cited",
}


def census_names(kind: str) -> set[str]:
    """Names from the census files: ``NAME  freq  cumulative  rank`` per line, by rank."""
    names: set[str] = set()
    for file in CENSUS_FILES[kind]:
        rows = importlib.resources.files("names").joinpath(file).read_text().splitlines()
        ranked = [row.split()[0].casefold() for row in rows if row.strip()]
        names.update(ranked[:CENSUS_SURNAMES] if kind == "last" else ranked)
    return names


def faker_names(locale: str, kind: str) -> set[str]:
    """Every first or last name a Faker locale's person provider lists (its own classes
    only: the generic base provider's placeholders are not names of anyone)."""
    from faker.providers.person import Provider as Base

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    marker = f"{kind}_name"
    names: set[str] = set()
    for cls in provider.__mro__:
        if cls is Base or not issubclass(cls, Base):
            continue
        for attribute, value in vars(cls).items():
            if marker in attribute and isinstance(value, tuple | list | dict):
                names.update(word for name in value for word in _words(str(name)))
    return names


def _words(name: str) -> list[str]:
    """The words of a listed name that can stand alone: "Ana Belén" gives both, "van der
    Meer" only "meer" (lower-case particles are not names; the rules handle them)."""
    words = name.split()
    if len(words) > 1:
        words = [word for word in words if word[:1].isupper()]
    return [word.casefold() for word in words]


def build() -> dict[str, str]:
    """The three files' contents by file name."""
    lists = {}
    for kind in ("first", "last"):
        names = census_names(kind)
        for locale in FAKER_LOCALES:
            names |= faker_names(locale, kind)
        lists[kind] = sorted(n for n in names if _is_name(n))
    return {
        "first_names.txt": _lines(lists["first"]),
        "last_names.txt": _lines(lists["last"]),
        "SOURCES.md": sources(len(lists["first"]), len(lists["last"])),
    }


def _is_name(name: str) -> bool:
    """One word of letters, with apostrophes or hyphens inside; at least two letters."""
    letters = [c for c in name if c.isalpha()]
    return len(letters) >= 2 and all(c.isalpha() or c in "'’-" for c in name)


def _lines(names: Iterable[str]) -> str:
    return "".join(f"{name}\n" for name in names)


def sources(first: int, last: int) -> str:
    faker = importlib.metadata.version("faker")
    census = importlib.metadata.version("names")
    rows = "\n".join(f"| `{locale}` | {origin} |" for locale, origin in FAKER_LOCALES.items())
    return f"""# Personal-name lists: sources and licences

Made by `scripts/build_name_lists.py` (do not edit by hand): {first} first names and
{last} surnames, case-folded, one word per line (names of several words are split;
lower-case particles such as "van der" are left to the rules). They only decide whether
a capitalised word can be a name (see `redactor/pii/names.py`); they are never shown or
logged. No list is derived from scraped or leaked personal data.

* **US Census Bureau, 1990 census name files**, as packaged in `names` {census} on PyPI.
  Taken: every first name (`dist.male.first`, `dist.female.first`: the names of 90 % of
  the population) and the {CENSUS_SURNAMES} most common of 88,799 surnames
  (`dist.all.last`). Licence: public domain (a work of the US federal government); the
  package is MIT.
* **Faker {faker}**, the person providers of the locales below: every first and last name
  each lists. Licence: MIT.

Faker locales and the origin of their names as Faker's source cites it:

| locale | origin |
| --- | --- |
{rows}
"""


def _differences(built: dict[str, str]) -> Iterator[str]:
    for name, text in built.items():
        path = DATA / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            yield name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    built = build()
    if args.check:
        stale = list(_differences(built))
        for name in stale:
            print(f"{DATA / name} differs from what the script builds", file=sys.stderr)
        return 1 if stale else 0
    DATA.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        (DATA / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(built)} to {DATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The shipped name lists: present, compact, built by the script from the listed sources."""

from __future__ import annotations

import subprocess
import sys

import pytest

from redactor.pii.name_lists import DATA, load_name_lists
from tests.support import ROOT


def test_lists_load_as_case_folded_single_words() -> None:
    lists = load_name_lists()
    assert 5000 < len(lists.first) < 20000
    assert 10000 < len(lists.last) < 40000
    for name in lists.first | lists.last:
        assert name == name.casefold() and " " not in name and len(name) >= 2


def test_shipped_data_stays_small() -> None:
    size = sum(file.stat().st_size for file in ROOT.glob("redactor/pii/data/*"))
    assert size < 400_000


@pytest.mark.parametrize(
    "name", ["smith", "garcia", "müller", "jansen", "janssens", "dubois", "novák", "kowalski"]
)
def test_common_surnames_of_the_countries_served_are_known(name: str) -> None:
    assert name in load_name_lists().last


@pytest.mark.parametrize("name", ["john", "maria", "lukas", "søren", "chiara", "łukasz", "zuzana"])
def test_common_first_names_of_the_countries_served_are_known(name: str) -> None:
    assert name in load_name_lists().first


def test_sources_and_licences_are_listed_with_the_data() -> None:
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    assert "US Census Bureau" in sources and "public domain" in sources
    assert "Faker" in sources and "MIT" in sources


def test_the_committed_files_are_what_the_build_script_makes() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/build_name_lists.py", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_nothing_depends_on_names_dataset() -> None:
    """Its data was extracted from a leaked dump of Facebook profiles."""
    for path in [ROOT / "pyproject.toml", ROOT / "constraints.txt", *ROOT.glob("redactor/**/*.py")]:
        assert "names-dataset" not in path.read_text(encoding="utf-8"), path
        assert "names_dataset" not in path.read_text(encoding="utf-8"), path

"""docs/extending.md names real files: every path it cites exists in the repository."""

from __future__ import annotations

import re

from tests.support import ROOT

DOC = ROOT / "docs" / "extending.md"
#: A cited path: back-quoted, under one of the repository's top-level folders.
CITED = re.compile(r"`((?:redactor|models|tests|testkit|bench|docs|workers)/[^`<>\s]+)`")


def test_every_path_the_extension_guide_names_exists() -> None:
    cited = set(CITED.findall(DOC.read_text()))
    assert len(cited) >= 30, "the guide should name the files of every recipe"
    missing = sorted(p for p in cited if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_every_registry_the_guide_names_is_a_real_name_in_its_module() -> None:
    text = DOC.read_text()
    for registry, module in (
        ("RECOGNIZERS", "redactor/pii/__init__.py"),
        ("STYLES", "redactor/styles.py"),
        ("ENGINES", "redactor/text/engines/__init__.py"),
        ("FAMILIES", "redactor/faces/registry.py"),
        ("BACKENDS", "redactor/storage/__init__.py"),
    ):
        assert f"`{registry}`" in text
        assert re.search(rf"^{registry}\b.*=", (ROOT / module).read_text(), re.M), registry

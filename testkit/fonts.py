"""TrueType fonts from Debian's font packages (``scripts/system-deps.sh`` installs them)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

FONT_ROOT = Path("/usr/share/fonts")
#: The Debian package that installs each font family, by file-name prefix.
FONT_PACKAGES = {
    "DejaVu": "fonts-dejavu-core",
    "Liberation": "fonts-liberation2",
    "Noto": "fonts-noto-core",
    "Free": "fonts-freefont-ttf",
}


@cache
def font_path(name: str) -> Path:
    found = sorted(FONT_ROOT.rglob(name))
    if not found:
        package = next((p for prefix, p in FONT_PACKAGES.items() if name.startswith(prefix)), "?")
        raise FileNotFoundError(f"font {name} is missing: install the Debian package {package}")
    return found[0]


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)

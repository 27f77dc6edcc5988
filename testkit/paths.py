"""Where the repository and the shared test images are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Public test photos beside the repository (read only: never write there).
SHARED_IMAGES = ROOT.parent / "shared" / "test-images"


def shared_path(name: str) -> Path:
    """The path of a shared test image; an error naming it when it is missing."""
    path = SHARED_IMAGES / name
    if not path.is_file():
        raise FileNotFoundError(
            f"shared test image missing: {path} (is ../shared/ beside the repository?)"
        )
    return path

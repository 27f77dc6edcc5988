"""Properties of the installed project that are easy to break by accident."""

import ast
import importlib.metadata
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = {"cli", "http", "service"}
FORBIDDEN_IN_CORE = {"celery", "fastapi", "redis", "starlette", "uvicorn"}


def test_both_opencv_distributions_agree_on_one_version() -> None:
    """mediapipe pulls opencv-contrib-python, the OCR engines opencv-python-headless:
    both install `cv2`, so they must be the same version or the import is a lottery."""
    contrib = importlib.metadata.version("opencv-contrib-python")
    headless = importlib.metadata.version("opencv-python-headless")
    assert contrib == headless
    assert cv2.__version__ == ".".join(contrib.split(".")[:3])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_celery_fastapi_or_redis() -> None:
    core = [
        p
        for p in (ROOT / "redactor").rglob("*.py")
        if p.relative_to(ROOT / "redactor").parts[0] not in ADAPTERS
    ]
    assert core
    offenders = {str(p.relative_to(ROOT)): _imports(p) & FORBIDDEN_IN_CORE for p in core}
    assert not {k: v for k, v in offenders.items() if v}


def test_library_never_imports_test_code_and_benchmarks_never_import_tests() -> None:
    """testkit/ and tests/ are never shipped; bench/ builds its scenes from testkit/."""
    shipped = [p for top in ("redactor", "workers", "models") for p in (ROOT / top).rglob("*.py")]
    offenders = {
        str(p.relative_to(ROOT)): _imports(p) & {"tests", "testkit", "bench"} for p in shipped
    }
    offenders |= {
        str(p.relative_to(ROOT)): _imports(p) & {"tests"} for p in (ROOT / "bench").rglob("*.py")
    }
    assert shipped
    assert not {k: v for k, v in offenders.items() if v}

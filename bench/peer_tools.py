"""The tools ``bench.peers`` runs side by side, and the virtual environments the peers
are installed into (``bench-out/peers/<name>-venv``, made with ``python3.11 -m venv``,
kept across runs, reinstalled when the pinned requirements change)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = ROOT / "bench-out" / "peers"
SPACY_BLANK = PEERS_DIR / "spacy-blank-en"


@dataclass(frozen=True)
class Tool:
    label: str
    #: The tool name ``peer_driver.py`` knows.
    driver: str
    #: Virtual environment name under bench-out/peers; ``None``: this interpreter.
    venv: str | None = None
    requirements: tuple[str, ...] = ()
    #: The redactor tree a ``redactor-*`` tool imports (``--baseline``: another checkout,
    #: so that a change and the code before it are timed in the same run).
    root: Path = ROOT

    @property
    def folder(self) -> str:
        """Where its outputs go, under the run's outputs folder."""
        return self.driver if self.root == ROOT else f"{self.driver}-baseline"


def baseline_tool(tree: Path) -> Tool:
    """redactor faces-only as another checkout (``tree``) has it, for before/after runs."""
    return Tool(f"redactor faces (baseline {tree.name})", "redactor-faces", root=tree.resolve())


TOOLS = (
    Tool("redactor faces", "redactor-faces"),
    Tool(
        "deface 1.5.0",
        "deface",
        "deface",
        ("deface==1.5.0", "onnx==1.23.2", "onnxruntime==1.31.1"),
    ),
    Tool("redactor full", "redactor-full"),
    Tool(
        "presidio-image-redactor 0.0.62",
        "presidio",
        "presidio",
        ("presidio-image-redactor==0.0.62", "presidio-analyzer==2.2.366", "spacy==3.8.18"),
    ),
)


TOOLS_BY_LABEL = {tool.label: tool for tool in TOOLS}


def tool_python(tool: Tool) -> Path:
    """The interpreter for ``tool``, its virtual environment made or updated if needed."""
    if tool.venv is None:
        return Path(sys.executable)
    venv = PEERS_DIR / f"{tool.venv}-venv"
    python = venv / "bin" / "python"
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(tool.requirements) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    click.echo(f"installing {', '.join(tool.requirements)} into {venv} ...", err=True)
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *tool.requirements], check=True)
    marker.write_text(wanted)
    return python


def ensure_blank_spacy(python: Path) -> Path:
    """A blank English spaCy pipeline on disk: presidio loads it by path, nothing downloads."""
    if not (SPACY_BLANK / "meta.json").exists():
        code = f"import spacy; spacy.blank('en').to_disk({str(SPACY_BLANK)!r})"
        subprocess.run([str(python), "-c", code], check=True)
    return SPACY_BLANK


def ensure_tesseract() -> None:
    """Debian's tesseract (presidio's OCR), installed with apt-get when missing."""
    if shutil.which("tesseract"):
        return
    if os.geteuid() != 0:
        raise click.ClickException("tesseract is missing: sudo apt-get install -y tesseract-ocr")
    click.echo("installing tesseract-ocr with apt-get ...", err=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "tesseract-ocr"], check=True, env=env)

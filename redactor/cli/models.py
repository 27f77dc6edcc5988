"""``redactor models``: list and verify the model weight files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from models.verify import VerifyResult


@click.group()
def models() -> None:
    """Inspect the model weight files the pipeline uses (never downloads anything)."""


@models.command("verify")
def verify() -> None:
    """Check every weight file against models/manifest.json (package version and sha256).

    Exits 1 if any file is missing or altered, naming the file and the expected checksum.
    Files of an optional engine whose extra is not installed are listed as not installed.
    """
    from models import verify_all

    console = Console(stderr=False)
    results = verify_all()
    table = Table("model", "package", "status")
    for result in results:
        table.add_row(result.entry.name, result.entry.source, _status(result))
    console.print(table)
    bad = [r for r in results if not r.ok]
    if bad:
        console.print(f"[red]{len(bad)} of {len(results)} model files failed verification[/]")
        sys.exit(1)
    absent = [r for r in results if not r.installed]
    console.print(
        f"all {len(results) - len(absent)} installed model files verified"
        + (f"; {len(absent)} of optional engines not installed" if absent else "")
    )


def _status(result: VerifyResult) -> str:
    if not result.installed:
        return f"[yellow]not installed[/] (optional: pip install 'redactor[{result.entry.extra}]')"
    return "[green]ok[/]" if result.ok else f"[red]{result.problem}[/]"


@models.command("list")
def list_models() -> None:
    """List each weight file with its providing package, path, sha256 and licence."""
    from models import load_manifest

    table = Table("model", "package", "path", "sha256", "licence")
    for entry in load_manifest():
        table.add_row(
            entry.name,
            entry.source,
            entry.path,
            entry.sha256[:16] + "…",
            entry.licence,
        )
    Console().print(table)
